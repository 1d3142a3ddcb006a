"""Cortex-M7 (Armv7E-M DSP) kernel variants for the cubeai style.

    from mcugen.codegen.arm import select_arm_variant
    variant = select_arm_variant(graph, op)      # ArmVariant, or None: keep the portable kernel
    if variant is not None:
        call = variant.prepare(graph, op)        # ArmCall: kernel, sources, constants, structs, call
        kernel_call = call.to_kernel_call(op)    # the cubeai lowering's KernelCall

    # or, whole networks, through the generator's hook:
    from mcugen.codegen.arm.select import arm_kernel_selector
    generate_cubeai(graph, board, out_dir, select_kernel=arm_kernel_selector())
    # (network.c must #include "arm/mcu_arm_kernels.h": select.patch_network_source)

An `ArmVariant` describes one C kernel of firmware/kernels/arm/: the ops and
geometries it handles (`handles`, `accepts(graph, op)` -> None or the reason not),
its function (`kernel`) and sources, its scratch bytes (`scratch(graph, op)`, the C
*_get_buffer_size()), how many output pixels it has in flight (`pixels_in_flight`,
the planner's overlap contract: 1 for every raster variant, None outside the raster
model) and the weight transform it needs (`transform`, numpy -> numpy). `prepare`
also folds input_offset * sum(filter) into the bias and builds the requantization
(the fast SMMLAR form where provably bit-exact, TFLM's arithmetic otherwise), all
interleaved into the one int32 stream the kernel reads.

Variants, in order of preference (`VARIANTS`):
    conv1x1_w16 / conv1x1   CONV_2D 1x1            mcu_conv2d_1x1_s8_arm
    dw3x3                   DEPTHWISE 3x3          mcu_depthwise_conv2d_3x3_s8_arm
    dw                      DEPTHWISE any          mcu_depthwise_conv2d_s8_arm
    conv_w16 / conv         CONV_2D any (and DEPTHWISE with 1 input channel)  mcu_conv2d_s8_arm
    fc_w16 / fc             FULLY_CONNECTED        mcu_fully_connected_s8_arm
    avgpool                 AVERAGE_POOL_2D        mcu_avgpool_s8_arm
    add                     ADD (same shapes)      mcu_add_s8_arm
The *_w16 variants store the filter as int16 (twice its flash, ~20 % fewer
instructions); select_arm_variant(..., wide_limit=) takes them for filters up to
that many bytes (DEFAULT_WIDE_LIMIT = 4 KiB; None: always; 0: never).
"""

from mcugen.codegen.arm.variants import (
    ADD,
    AVGPOOL,
    CONV,
    CONV1X1,
    CONV1X1_W16,
    CONV_W16,
    DEFAULT_WIDE_LIMIT,
    DW,
    DW3X3,
    FC,
    FC_W16,
    HEADERS,
    VARIANTS,
    ArmCall,
    ArmConst,
    ArmStruct,
    ArmVariant,
    Ref,
    select_arm_variant,
    why_not,
)

__all__ = [
    "ADD", "AVGPOOL", "CONV", "CONV1X1", "CONV1X1_W16", "CONV_W16", "DEFAULT_WIDE_LIMIT", "DW", "DW3X3", "FC", "FC_W16",
    "HEADERS", "VARIANTS", "ArmCall", "ArmConst",
    "ArmStruct", "ArmVariant", "Ref", "select_arm_variant", "why_not",
]
