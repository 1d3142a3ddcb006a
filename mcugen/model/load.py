"""Loading: .tflite bytes -> checked, folded Graph (the IR types live in mcugen.model.graph)."""

from __future__ import annotations

from pathlib import Path

from mcugen.model.check import check_graph, check_tensors
from mcugen.model.fold import fold_constants, propagate_shapes
from mcugen.model.graph import Graph
from mcugen.model.loader import model_name_from_path, parse_model, read_model_file


def load_model(path: str | Path) -> Graph:
    """Read, parse, fold and check a .tflite file; ModelError on anything wrong."""
    data = read_model_file(path)
    return load_model_bytes(data, model_name_from_path(path))


def load_model_bytes(data: bytes, name: str = "model") -> Graph:
    graph = parse_model(data, name)
    check_tensors(graph)
    graph = propagate_shapes(fold_constants(graph))
    check_graph(graph)
    return graph


__all__ = ["load_model", "load_model_bytes"]
