"""The shape of the package, read from its imports: data moves one way through the stages.

Each module of mcugen belongs to a layer (LAYERS, bottom first; docs/architecture.md
says what each holds). A module may import from its own layer or those below, never
from above; no set of modules imports itself in a circle; and no mcugen module is
imported inside a function to hide a cycle. Importing `a.b.c` also runs the packages
`a.b` and `a`: those count as imports too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mcugen"

# Bottom first. A name ending in ".*" covers a package and everything in it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("mcugen", "mcugen.errors", "mcugen.text", "mcugen.resources", "mcugen.names",
                    "mcugen.interrupt", "mcugen.process", "mcugen.outdir", "mcugen.metrics", "mcugen.mapfile",
                    "mcugen.tables", "mcugen.jsonreport",
                    "mcugen.bootimage")),
    ("model and boards", ("mcugen.model", "mcugen.model.graph", "mcugen.model.flatbuf", "mcugen.model.options",
                          "mcugen.model.custom", "mcugen.boards", "mcugen.memory_map", "mcugen.firmware")),
    ("registry and facts", ("mcugen.ops.*", "mcugen.patch", "mcugen.patch.tiling", "mcugen.tflm",
                            "mcugen.tflm.source", "mcugen.tflm.ops", "mcugen.tflm.targets", "mcugen.tflm.layout",
                            "mcugen.tflm.flatbuffer", "mcugen.tflm.kernel_types")),
    ("load", ("mcugen.model.load", "mcugen.model.fold", "mcugen.model.loader", "mcugen.model.check",
              "mcugen.model.ssd_anchors", "mcugen.model.tail_tflite", "mcugen.model.detection_append",
              "mcugen.inputs")),
    ("plan", ("mcugen.planner.*",)),
    ("lower", ("mcugen.lower.*",)),
    ("check and patch search", ("mcugen.support", "mcugen.patch.search", "mcugen.coverage")),
    ("estimate", ("mcugen.tflm.toolchain", "mcugen.tflm.cache", "mcugen.tflm.codesize", "mcugen.tflm.kernel_arena",
                  "mcugen.tflm.arena", "mcugen.tflm.nodes", "mcugen.codesize", "mcugen.estimate", "mcugen.inspect", "mcugen.options",
                  "mcugen.autoplace", "mcugen.pipeline", "mcugen.advice")),
    ("emit", ("mcugen.tflm.library", "mcugen.codegen.*", "mcugen.emit")),
    ("build, run, compare", ("mcugen.build", "mcugen.dataset", "mcugen.link.*", "mcugen.runners.*", "mcugen.measure",
                             "mcugen.reference", "mcugen.validate", "mcugen.farm", "mcugen.farm.places",
                             "mcugen.farm.describe")),
    ("orchestration and tools", ("mcugen.project", "mcugen.report", "mcugen.report_boards", "mcugen.plot",
                                 "mcugen.compare_styles",
                                 "mcugen.cli_options", "mcugen.calibrate.*", "mcugen.cli", "mcugen.__main__", "mcugen.farm.parallel",
                                 "mcugen.farm.summary", "mcugen.farm.commands")),
)

FUNCTION_IMPORTS_ALLOWED: tuple[str, ...] = ()
# A function-level import of an mcugen module that keeps a heavy library (TensorFlow, the
# TFLM interpreter) out of `inspect`/`estimate` start-up says so on its line.
HEAVY_IMPORT_MARK = "# heavy:"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    line: int
    in_function: bool
    text: str


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = modules()


def _module_of(name: str) -> str:
    """The module `name` refers to: itself, or the package holding the attribute it names."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _with_packages(source: str, target: str) -> list[str]:
    """target and the packages Python runs to import it (those above `source` excepted:
    they are already being imported when `source` runs)."""
    chain = []
    name = target
    while name:
        if not source.startswith(name + ".") and name != source:
            chain.append(name)
        name = name.rpartition(".")[0]
    return chain


def imports() -> list[Import]:
    found = []
    for source, path in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                targets: list[str] = []
                if isinstance(child, ast.Import):
                    targets = [a.name for a in child.names if a.name.split(".")[0] == "mcugen"]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        parts = package.split(".")
                        base = ".".join(parts[: len(parts) - child.level + 1] + ([base] if base else []))
                    if base.split(".")[0] == "mcugen":
                        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in child.names]
                for t in targets:
                    for name in _with_packages(source, _module_of(t)):
                        found.append(Import(source, name, child.lineno, inner, lines[child.lineno - 1]))
                visit(child, inner)

        visit(ast.parse(text), False)
    return [i for i in found if i.target != i.source]


IMPORTS = imports()


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if name.endswith(".*"):
                root = name[:-2]
                if (module == root or module.startswith(root + ".")) and len(root) > best_len:
                    best, best_len = index, len(root)
            elif module == name and len(name) > best_len:
                best, best_len = index, len(name) + 1000  # an exact name wins over a package
    if best is None:
        raise KeyError(module)
    return best


def test_every_module_has_a_layer():
    missing = []
    for module in MODULES:
        try:
            layer_of(module)
        except KeyError:
            missing.append(module)
    assert not missing, f"place these in LAYERS (and docs/architecture.md): {missing}"


def test_no_import_runs_back_up_the_layers():
    upward = [f"{i.source} (layer '{LAYERS[layer_of(i.source)][0]}') imports {i.target} "
              f"(layer '{LAYERS[layer_of(i.target)][0]}'), line {i.line}"
              for i in IMPORTS if layer_of(i.target) > layer_of(i.source)]
    assert not upward, "\n".join(upward)


def _allowed_in_function(i: Import) -> bool:
    return str(MODULES[i.source].relative_to(PACKAGE.parent)).startswith(FUNCTION_IMPORTS_ALLOWED)


def test_no_import_cycle():
    """Over every import, those inside functions too (they would only hide a cycle)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if not (i.in_function and _allowed_in_function(i)):
            graph[i.source].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, cycles


def test_no_function_level_import_hides_a_cycle():
    hidden = [f"{MODULES[i.source].relative_to(PACKAGE.parent)}:{i.line}: {i.text.strip()}"
              for i in IMPORTS
              if i.in_function and HEAVY_IMPORT_MARK not in i.text and not _allowed_in_function(i)]
    assert not hidden, "import at module level (or mark a heavy one with '# heavy: why'):\n" + "\n".join(hidden)


@pytest.mark.parametrize("stage, forbidden", [
    ("mcugen.pipeline", ("mcugen.tflm.library", "mcugen.codegen", "mcugen.calibrate", "mcugen.runners")),
    ("mcugen.estimate", ("mcugen.tflm.library", "mcugen.codegen", "mcugen.calibrate", "mcugen.pipeline")),
    ("mcugen.lower", ("mcugen.estimate", "mcugen.codegen", "mcugen.pipeline", "mcugen.options")),
])
def test_stages_do_not_reach_what_comes_after_them(stage, forbidden):
    """What a stage imports, directly or not, at module level: estimate does not pull the
    TFLM library builder, nor lowering the footprint or the generator."""
    reach, todo = set(), [stage]
    while todo:
        module = todo.pop()
        for i in IMPORTS:
            if i.source == module and not i.in_function and i.target not in reach:
                reach.add(i.target)
                todo.append(i.target)
    bad = sorted(m for m in reach if m.startswith(forbidden))
    assert not bad, bad


# Starting or signalling programs is mcugen.process's job: timeouts, process groups, PDEATHSIG,
# the registry of live children that Ctrl-C stops.
PROCESS_MODULE = "mcugen.process"
PROCESS_CALLS = {"subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput",
                                "getstatusoutput"},
                 "os": {"system", "popen", "kill", "killpg", "fork", "spawnv", "spawnvp", "execv", "execvp",
                        "posix_spawn", "posix_spawnp"}}


def process_calls(source: str) -> list[tuple[int, str]]:
    """(line, 'module.function') for each call that starts or signals a program."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name) and node.func.attr in PROCESS_CALLS.get(node.func.value.id, ()):
            found.append((node.lineno, f"{node.func.value.id}.{node.func.attr}"))
    return found


def test_only_the_process_module_runs_programs():
    calls = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line}: {call}" for m, path in MODULES.items()
             if m != PROCESS_MODULE for line, call in process_calls(path.read_text())]
    assert not calls, "run programs through mcugen.process:\n" + "\n".join(calls)


def test_the_checker_sees_an_upward_import_and_the_packages_an_import_runs():
    """The rules above can fail: a made-up upward import is caught by the layer check, and
    importing a submodule counts its package's own imports."""
    fake = Import("mcugen.ops.base", "mcugen.estimate", 1, False, "from mcugen.estimate import estimate")
    assert layer_of(fake.target) > layer_of(fake.source)
    assert layer_of("mcugen.lower.arm.conv") == layer_of("mcugen.lower") > layer_of("mcugen.planner.plan")
    assert _with_packages("mcugen.planner.plan", "mcugen.lower.call") == ["mcugen.lower.call", "mcugen.lower"]
    assert _with_packages("mcugen.lower.conv", "mcugen.lower.call") == ["mcugen.lower.call"]
    assert process_calls("import subprocess\nsubprocess.run(['ls'])\nos.killpg(1, 9)\n") == [
        (2, "subprocess.run"), (3, "os.killpg")]
    assert process_calls(PACKAGE.joinpath("process.py").read_text())  # the one module that does


MODULE_LINE_LIMIT = 500


def test_no_module_is_over_the_line_limit():
    """Small modules with one job (issue 15): a module past the limit is split before it grows further."""
    long = {str(p.relative_to(PACKAGE.parent)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MODULE_LINE_LIMIT}
    assert not long, f"modules over {MODULE_LINE_LIMIT} lines: {long}"
