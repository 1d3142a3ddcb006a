"""The `tflm` style's groundwork: the TFLM source tree, a cached library build,
its code size per operator, and the arena a model needs under TFLM.

Modules: source (find and fingerprint the tree), library (cached
libtensorflow-microlite.a), ops (which builtins the resolver can register),
codesize (code flash per operator from the built objects), arena (the arena
estimate), measure (the real arena need, on the host and under QEMU).
"""
