"""Cortex-M7 (Armv7E-M DSP) kernel variants for the cubeai style.

    from mcugen.codegen.arm import select_arm_variant
    variant = select_arm_variant(graph, op)      # ArmVariant, or None: keep the portable kernel
    if variant is not None:
        call = variant.prepare(graph, op)        # ArmCall: kernel, sources, constants, structs, call
        kernel_call = call.to_kernel_call(op)    # the cubeai lowering's KernelCall

An `ArmVariant` describes one C kernel of firmware/kernels/arm/: the ops and
geometries it handles (`accepts`), its function and sources, its scratch bytes,
how many output pixels it has in flight (the planner's overlap contract) and
the weight transform it needs (`transform`, numpy -> numpy). `prepare` also
folds input_offset * sum(filter) into the bias and builds the requantization
table (fast form where provably bit-exact). See variants.py for the list.
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
