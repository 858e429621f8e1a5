"""Imports point one way: between the four packages, and between the rooms
inside them. Every import counts, also one inside a function, where a
circle likes to hide."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each package may import of the others (DESIGN: admin → collector →
# routing; admin and collector → classifier).
PACKAGES = {
    "admin": {"collector", "routing", "classifier"},
    "collector": {"routing", "classifier"},
    "routing": set(),
    "classifier": set(),
}

# Rooms inside a package, lowest first: a room may import only rooms listed
# before it (and itself).
ROOMS = {
    "classifier": ["text", "ngrams", "estimators", "lean", "agency", "model"],
    # routing's shared basics, then its rooms (see routing/__init__.py).
    "routing": ["clock", "texts", "store", "dispatch", "flow", "reports"],
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            # ``from . import x`` names a module too.
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_packages_import_only_the_packages_below_them(package):
    others = set(PACKAGES) - {package}
    wrong = {
        (module_name(path), name)
        for path in sources(package)
        for name in imported(path)
        if name.split(".")[0] in others - PACKAGES[package]
    }
    assert wrong == set()


@pytest.mark.parametrize("package", sorted(ROOMS))
def test_rooms_import_only_the_rooms_below_them(package):
    order = ROOMS[package]
    wrong = set()
    for path in sources(package):
        parts = module_name(path).split(".")
        if len(parts) < 2 or parts[1] not in order:
            continue
        room = order.index(parts[1])
        for name in imported(path):
            target = name.split(".")
            if target[0] == package and len(target) > 1 and target[1] in order and order.index(target[1]) > room:
                wrong.add((module_name(path), name))
    assert wrong == set()


def test_the_check_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    module = tmp_path / "classifier" / "lean" / "features.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from ..model import TopicModel\n", "utf-8")
    assert "classifier.model.TopicModel" in imported(module)


def test_no_module_outside_the_migrations_is_longer_than_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in (*PACKAGES, "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and (lines := len(path.read_text("utf-8").splitlines())) > 400
    }
    assert long == {}


def test_every_module_of_routing_lives_in_a_room_or_is_a_shared_basic():
    outside = {
        module_name(path)
        for path in sources("routing")
        if len(module_name(path).split(".")) > 1 and module_name(path).split(".")[1] not in ROOMS["routing"]
    }
    assert outside == set()
