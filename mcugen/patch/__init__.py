"""Patch-based inference (MCUNetV2, `--patch`): the first, high-resolution layers run patch
by patch to cut the activation peak.

Modules: tiling (the geometry of tiles and stages, and the overlap proof; used by the
planner's access model), search (which stages on which grid, and the glue that patches
a lowered network). A stage's kernels and C are lowered by mcugen.lower.patch_stage.
The package itself imports nothing: the planner reaches tiling without the search.
"""
