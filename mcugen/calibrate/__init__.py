"""Calibration: the tools that measure what the estimate's tables hold, apart from the
pipeline (nothing in generate or estimate imports them).

    python -m mcugen.calibrate.codesize --update   code sizes of the firmware's objects (data/code_sizes.json)
    python -m mcugen.calibrate.layout [TFLM_ROOT]  TFLM's struct sizes per target (data/tflm_layout.json)
    python -m mcugen.calibrate.resolver [ROOT]     TFLM's resolver tables (mcugen/tflm/ops.py)

Modules: codesize, layout and resolver (the tables), probe (TFLM's real arena and code
size, by running TFLM on the host or under QEMU: the arena and code-size estimates'
ground truth in tests/tflm), hostrun (a cubeai project built with the host compiler
and run on arrays: the bit-exactness tests' harness).
"""
