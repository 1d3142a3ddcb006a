"""Activation memory planning (see mcugen.planner.plan): tensor lifetimes -> offsets.

    plan = plan_memory(graph, scratch_bytes)                  # one arena
    plan = plan_pools(graph, [("dtcm", 96_000), ("axisram", 512_000)], scratch_bytes)
    plan = plan_activations(graph, scratch, inputs=False, pools=caps)   # cubeai's choices (pools.py)
    check_plan(graph, plan), simulate_plan(graph, plan)       # brute-force proofs (check.py)

Modules: buffers (buffers, lifetimes, overlaps, the MemoryPlan), placement (first fit
and beam search), plan (plan_memory, plan_pools), pools (cubeai's I/O allocation and
pools: parsing, capacities, the bytes the rest of the firmware reserves), check.
"""

from mcugen.planner.buffers import DEFAULT_ALIGNMENT, Buffer, MemoryPlan, Pool, activation_tensors, op_lower_bound
from mcugen.planner.buffers import overlap_allowances
from mcugen.planner.check import check_plan, simulate_plan
from mcugen.planner.placement import BEAM_ORDERS, BEAM_WIDTH, ORDERS, QUICK_ORDERS
from mcugen.planner.plan import buffer_traffic, plan_memory, plan_pools

__all__ = [
    "BEAM_ORDERS", "BEAM_WIDTH", "DEFAULT_ALIGNMENT", "ORDERS", "QUICK_ORDERS", "Buffer", "MemoryPlan", "Pool",
    "activation_tensors", "buffer_traffic", "check_plan", "op_lower_bound", "overlap_allowances", "plan_memory",
    "plan_pools", "simulate_plan",
]
