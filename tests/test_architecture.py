"""The house rules of docs/architecture.md, checked on the source.

- No import cycles among shopmetrics' modules, counting every import: module level,
  inside functions and under ``TYPE_CHECKING``. An import of ``a.b.c`` is an edge to the
  module ``a.b.c`` (a package's ``__init__`` only when the package itself is imported).
- Only ``engine/`` touches an engine's own API (polars, duckdb, pyspark, native objects);
  everything else writes ``narwhals.stable.v2`` expressions, which run on every engine.
- Imports go down the layers of docs/architecture.md (:data:`LAYERS`), never up.
- No function longer than :data:`MAX_FUNCTION_LINES` lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "shopmetrics"

MAX_FUNCTION_LINES = 100
"""Longest function allowed, in lines of code: signature and body, without the docstring
(documentation is not what makes a function hard to change; see docs/architecture.md)."""

ENGINE_LIBRARIES = {"polars", "duckdb", "pyspark", "dask", "modin", "sqlframe", "ibis"}
ENGINE_CALLS = {"from_native", "to_native", "Implementation"}
PYARROW_ALLOWED = {"shopmetrics.datasets"}  # the demo store builds its tables in pyarrow


LAYERS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("shopmetrics.errors", "shopmetrics.config", "shopmetrics.engine.deps")),
    (1, ("shopmetrics.schema", "shopmetrics.metrics", "shopmetrics.display", "shopmetrics.io",
         "shopmetrics.audit",
         "shopmetrics.flags.finding", "shopmetrics.flags",  # the package: its __init__ only
         "shopmetrics.report.labels", "shopmetrics.report.labels_flags",
         "shopmetrics.report.labels_phrases", "shopmetrics.report.labels_results",
         "shopmetrics.report.format", "shopmetrics.report.views",
         "shopmetrics.report.kinds", "shopmetrics.report.labels_activity")),
    (2, ("shopmetrics.stats", "shopmetrics.models")),
    (3, ("shopmetrics.engine",)),
    (4, ("shopmetrics.results", "shopmetrics.activity_table")),
    (5, ("shopmetrics.flags.",)),
    (6, ("shopmetrics.funnel", "shopmetrics.dsr", "shopmetrics.traffic", "shopmetrics.traffic_ratios",
         "shopmetrics.visitor_value", "shopmetrics.attribution", "shopmetrics.clv",
         "shopmetrics.compare", "shopmetrics.ab", "shopmetrics.anomaly",
         "shopmetrics.validation", "shopmetrics.dsr_tables", "shopmetrics.peers",
         "shopmetrics.creative", "shopmetrics.activity", "shopmetrics.activity_buyers")),
    (7, ("shopmetrics.report",)),
    (8, ("shopmetrics.cli", "shopmetrics.weekly", "shopmetrics.datasets", "=shopmetrics")),
)  # fmt: skip
"""Each module's layer: the longest matching entry (``a.b`` matches ``a.b`` and its
submodules, ``a.b.`` only its submodules, ``=a`` only ``a`` itself)."""


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for layer, prefixes in LAYERS:
        for p in prefixes:
            if p.startswith("="):
                hit = module == p[1:]
            elif p.endswith("."):
                hit = module.startswith(p)
            else:
                hit = module == p or module.startswith(p + ".")
            if hit and (best is None or len(p) > best[0]):
                best = (len(p), layer)
    if best is None:
        msg = f"{module} has no layer: add it to LAYERS and to docs/architecture.md"
        raise AssertionError(msg)
    return best[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(tree: ast.AST, here: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the tree, resolved to a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = here.split(".") if is_package else here.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, _ in _imports(tree, name, path.name == "__init__.py"):
            if target in MODULES and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_function_level_and_type_checking_imports() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from shopmetrics.funnel import FunnelResult\n"
        "def f():\n    from shopmetrics.engine import tables\n"
    )
    got = {t for t, _ in _imports(tree, "shopmetrics.x", is_package=False)}
    assert {"shopmetrics.funnel", "shopmetrics.engine.tables"} <= got


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (break them as docs/architecture.md says): " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_imports_go_down_the_layers() -> None:
    up = [
        f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
        for m, deps in sorted(_graph().items())
        for d in sorted(deps)
        if layer_of(d) > layer_of(m)
    ]
    assert not up, "imports against the layers of docs/architecture.md: " + "; ".join(up)


def test_only_the_package_root_imports_the_package_root() -> None:
    """``import shopmetrics`` inside the package would tie every module to every other."""
    offenders = sorted(m for m, deps in _graph().items() if "shopmetrics" in deps)
    assert offenders == [], offenders


@pytest.mark.parametrize("module", sorted(m for m in MODULES if ".engine" not in m + "."))
def test_only_the_engine_touches_engine_apis(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    bad: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for n in names:
            top = n.split(".")[0]
            pyarrow_ok = any(module.startswith(p) for p in PYARROW_ALLOWED)
            if top in ENGINE_LIBRARIES or (top == "pyarrow" and not pyarrow_ok):
                bad.append(f"line {node.lineno}: imports {n}")
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_CALLS:
            bad.append(f"line {node.lineno}: uses .{node.attr}")
    assert not bad, f"{module}: engine-specific code belongs in shopmetrics.engine: {bad}"


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_functions_are_short() -> None:
    long = []
    for name, path in MODULES.items():
        for fn in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            doc = fn.body[0] if fn.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
                length -= (doc.end_lineno or doc.lineno) - doc.lineno + 1
            if length > MAX_FUNCTION_LINES:
                long.append(f"{name}.{fn.name} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {sorted(long)}"


def test_modules_are_short() -> None:
    long = [
        f"{m} ({n} lines)"
        for m, p in MODULES.items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    ]
    assert not long, f"modules over 800 lines: {sorted(long)}"
