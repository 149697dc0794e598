"""The package's layout: imports run from the front ends down the stages, never back; no import cycle between
modules; no module over 500 lines; a docstring per stage.

The layers, bottom to top (LAYERS): the foundation every module may use (configuration, the typed errors,
atomic files, spreadsheet-safe cells); then the analysis's stages in pipeline order, video -> pose -> stance ->
measure -> assess, two-camera fusion, the pipeline that runs them, results, history; then the live test (it
runs the stages on a camera and the analysis on its clip) and batch runs (the pipeline, results and history on
a cluster); then the two front ends, the CLI and the web app. A module imports only from its own layer's
package or from layers below. Two of measure's modules sit below stance: the body geometry of landmarks
(measure.body) and the signal filters (measure.signals) that stance detection uses before anything is measured.
Only the CLI imports the CLI; only the web app imports the web app, and the CLI's `serve` command, which starts it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "balance"
MAX_LINES = 500
FOUNDATION = ("balance", "balance.config", "balance.errors", "balance.files", "balance.spreadsheet")
LAYERS: tuple[tuple[str, ...], ...] = (
    FOUNDATION,
    ("balance.video",),
    ("balance.pose",),
    ("balance.measure.body", "balance.measure.signals"),
    ("balance.stance",),
    ("balance.measure",),
    ("balance.assess",),
    ("balance.twoview",),
    ("balance.pipeline",),
    ("balance.results",),
    ("balance.history",),
    ("balance.live",),
    ("balance.batch",),
    ("balance.cli", "balance.web"),
)
# The one import into a front end from outside it: `balance serve` starts the web app.
FRONT_END_DOORS = {"balance.web": ("balance.cli.serve",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules `path` imports, at any depth of the file (lazy imports in functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {n for n in names if n in modules} or ({node.module} & modules)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & modules
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: imports(path, modules) - {name} for name, path in files.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_modules() -> None:
    edges = graph()
    assert len(edges) > 30 and any(edges.values())
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_no_module_over_500_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_package_says_its_job() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def unit_of(module: str) -> tuple[int, str]:
    """The layer a module sits in and the package (or module) of LAYERS it belongs to: the longest that names it."""
    found = [
        (len(unit), rank, unit)
        for rank, layer in enumerate(LAYERS)
        for unit in layer
        if module == unit or (unit != "balance" and module.startswith(unit + "."))
    ]
    if not found:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS in tests/test_layout.py")
    _, rank, unit = max(found)
    return rank, unit


def layer_breaks(edges: dict[str, set[str]]) -> list[str]:
    """Each import that goes up the layers or across into another package of the same layer."""
    out = []
    for module, targets in sorted(edges.items()):
        rank, unit = unit_of(module)
        for target in sorted(targets):
            t_rank, t_unit = unit_of(target)
            if t_unit == unit or t_rank < rank:
                continue
            out.append(f"{module} imports {target} ({t_unit} is not below {unit})")
    return out


def front_end_breaks(edges: dict[str, set[str]]) -> list[str]:
    """Each import of a front end (balance.cli, balance.web) from outside it, apart from FRONT_END_DOORS."""
    out = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            for front in ("balance.cli", "balance.web"):
                inside = module == front or module.startswith(front + ".")
                into = target == front or target.startswith(front + ".")
                if into and not inside and module not in FRONT_END_DOORS.get(front, ()):
                    out.append(f"{module} imports {target}: only {front} may")
    return out


def test_the_layer_checks_catch_an_import_upwards_or_into_a_front_end() -> None:
    edges = {
        "balance.pose.estimate": {"balance.video.reader", "balance.errors"},  # down: fine
        "balance.stance.trials": {"balance.measure.body"},  # measure.body sits below stance: fine
        "balance.measure.trial": {"balance.assess.flags"},  # up a layer
        "balance.cli.main": {"balance.web.app"},  # across the front ends
        "balance.web.services": {"balance.cli.history"},  # across the front ends
        "balance.cli.serve": {"balance.web.app"},  # the door
        "balance.errors": {"balance.pose.landmarks"},  # the foundation imports a stage
    }
    assert layer_breaks(edges) == [
        "balance.cli.main imports balance.web.app (balance.web is not below balance.cli)",
        "balance.cli.serve imports balance.web.app (balance.web is not below balance.cli)",
        "balance.errors imports balance.pose.landmarks (balance.pose is not below balance.errors)",
        "balance.measure.trial imports balance.assess.flags (balance.assess is not below balance.measure)",
        "balance.web.services imports balance.cli.history (balance.cli is not below balance.web)",
    ]
    assert front_end_breaks(edges) == [
        "balance.cli.main imports balance.web.app: only balance.web may",
        "balance.web.services imports balance.cli.history: only balance.cli may",
    ]


def test_imports_run_down_the_layers() -> None:
    edges = graph()
    # The CLI's `serve` command starts the web app: the one import from one front end into the other.
    doors = {
        (m, t) for front, ms in FRONT_END_DOORS.items() for m in ms for t in edges.get(m, ()) if t.startswith(front)
    }
    assert doors, "balance.cli.serve starts the web app"
    kept = {m: {t for t in ts if (m, t) not in doors} for m, ts in edges.items()}
    assert not layer_breaks(kept), "\n".join(layer_breaks(kept))


def test_only_each_front_end_imports_itself() -> None:
    breaks = front_end_breaks(graph())
    assert not breaks, "\n".join(breaks)
