"""mcugen: quantized TFLite models onto Cortex-M7 microcontrollers."""

__version__ = "0.1.0"
