"""The layers of docs/DESIGN.md hold: no module imports a package above its own (ast walk)."""

from __future__ import annotations

import ast
from pathlib import Path

import tierlink

# lowest first; a package may import itself and anything before it (docs/DESIGN.md, "Layout")
LAYERS = ("core", "data", "endpoints", "network", "context", "trust", "routing", "config", "agents",
          "bench", "learn", "scale", "serve", "cli")
ROOT = Path(tierlink.__file__).parent


def _package(path: Path) -> str:
    """The layer a source file belongs to: its top folder, or 'cli' for the top-level modules."""
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else "cli"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, tierlink package) of every import in the file, top-level or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else \
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found += [(node.lineno, name.split(".")[1]) for name in names
                  if name.startswith("tierlink.") and len(name.split(".")) > 1]
    return found


def test_every_package_is_in_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), packages - set(LAYERS)


def test_no_import_runs_upward() -> None:
    rank = {name: index for index, name in enumerate(LAYERS)}
    upward = [
        f"{path.relative_to(ROOT)}:{line} ({_package(path)}) imports tierlink.{target}"
        for path in sorted(ROOT.rglob("*.py"))
        for line, target in _imports(path)
        if target in rank and rank[target] > rank[_package(path)]
    ]
    assert not upward, "\n".join(upward)


def test_the_walk_sees_nested_imports(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from tierlink.serve.app import x\nimport tierlink.learn.train\n")
    assert sorted(_imports(source)) == [(2, "serve"), (3, "learn")]


MAX_FILE_LINES = 350
MAX_FUNCTION_LINES = 60


def test_files_and_functions_stay_small() -> None:
    """A file a newcomer can read in one go, a function that fits on a screen (issue 13)."""
    long_files, long_functions = [], []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_FILE_LINES:
            long_files.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not long_files, f"files over {MAX_FILE_LINES} lines: {long_files}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"


def test_public_functions_say_why() -> None:
    """Every public module-level function and class, and every public method of a top-level class,
    has a docstring saying why it exists (dunder and private names start with "_" and are skipped)."""
    missing = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            items = [node] + (node.body if isinstance(node, ast.ClassDef) else [])
            for item in items:
                if (isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                        and not item.name.startswith("_") and ast.get_docstring(item) is None):
                    missing.append(f"{path.relative_to(ROOT)}:{item.lineno} {item.name}")
    assert not missing, "public names without a docstring:\n" + "\n".join(missing)
