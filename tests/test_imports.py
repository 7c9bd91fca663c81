"""Dependencies run one way: every qpi import (lazy ones inside functions too) goes to the module's
own layer or a lower one, and no chain of imports comes back to where it started.

The layers, lowest first, as docs/architecture.md draws them. A new module must be placed here.
"""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workflow" / "qpi"

LAYERS = [  # (layer, its packages or top-level modules), lowest first
    ("core", ["core"]),
    ("scoring", ["scoring"]),
    ("io", ["io"]),
    ("optics", ["optics"]),
    ("tie", ["tie"]),
    ("trust", ["trust"]),
    ("models", ["models"]),
    ("training", ["training"]),
    ("families", ["families"]),
    ("report", ["report"]),
    ("interface", ["predict", "cli"]),
]


def layer_of(module: str) -> int:
    """The layer of a module: that of its top-level package (or of the top-level module itself)."""
    top = module.removeprefix("qpi.").split(".")[0]
    for rank, (_, members) in enumerate(LAYERS):
        if top in members:
            return rank
    raise AssertionError(f"qpi.{top} is in no layer of {__file__}: place the package there")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_only(tree: ast.Module) -> set[int]:
    """ids of import nodes under `if TYPE_CHECKING:` (annotations only: no run-time dependency)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            out |= {id(n) for n in ast.walk(node)}
    return out


def imports(path: Path, modules: set[str]) -> set[str]:
    """The qpi modules `path` imports (a `from qpi.pkg import name` of a submodule counts as it)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    skip, out = type_checking_only(tree), set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("qpi")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("qpi"):
                continue
            subs = {f"{target}.{a.name}" for a in node.names} & modules
            out |= subs or {target}
    return {m for m in out if m != me and m != "qpi"}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(paths)) for name, path in paths.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_import_runs_down_the_layers():
    wrong = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
             for a, deps in sorted(graph().items()) if a != "qpi" for b in sorted(deps)
             if layer_of(b) > layer_of(a)]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycle():
    edges = graph()
    edges.pop("qpi", None)
    assert cycle(edges) is None, " -> ".join(cycle(edges))


def test_model_registry_imports_none_of_its_users():
    assert not graph()["qpi.models.registry"]


@pytest.mark.parametrize("edges, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
])
def test_the_cycle_finder_finds_cycles(edges, expected):
    assert cycle(edges) == expected


def test_a_wrong_way_import_is_caught(tmp_path, monkeypatch):
    """The checker itself: a core module importing a family is reported (a lazy import too), an
    annotation-only import is not."""
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "qpi")
    for package in ("core", "families", "families/srqpi"):
        (tmp_path / "qpi" / package).mkdir(parents=True)
        (tmp_path / "qpi" / package / "__init__.py").write_text("")
    (tmp_path / "qpi" / "__init__.py").write_text("")
    (tmp_path / "qpi" / "core" / "paths.py").write_text("def f():\n    from ..families.srqpi import g\n")
    (tmp_path / "qpi" / "families" / "srqpi" / "plan.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from qpi.cli import x\n")
    (tmp_path / "qpi" / "cli.py").write_text("")
    edges = graph()
    assert edges["qpi.core.paths"] == {"qpi.families.srqpi"} and edges["qpi.families.srqpi.plan"] == set()
    with pytest.raises(AssertionError, match="core.paths .core. imports qpi.families.srqpi .families."):
        test_every_import_runs_down_the_layers()


def test_one_import_style():
    """Every qpi import is absolute (`from qpi.core import paths`): a module reads the same wherever it lives."""
    relative = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}" for path in sorted(PACKAGE.rglob("*.py"))
                for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative, "relative imports: " + ", ".join(relative)
