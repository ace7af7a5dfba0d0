"""tests/unit mirrors the product: the test of plugins/<path>/<name>.py (or files/..., controller/...) is
tests/unit/plugins/<path>/test_<name>.py, so a test is found from the product file's path alone. Tests of data
(roles, playbooks, inventories, the pipeline catalog) follow the same rule, naming the file or folder they test
('-' read as '_', suffixes such as .yaml.j2 left out: test_argocd_config.py tests argocd-config.yaml.j2);
a test at a role's own folder covers what spans that role's files (its SSO wiring, say). At the top level: the
checks of the collection as a whole (this one, the layers, the built tarball)."""
from __future__ import annotations

import ast

import pytest

from harness import REPO

UNIT = REPO / "tests" / "unit"
MIRRORED = ("plugins", "files", "controller")
COLLECTION_WIDE = {"test_mirror.py", "test_layers.py", "test_collection_build.py"}
PRODUCT_SUFFIXES = (".py", ".yml", ".yaml", ".j2")


def product_files() -> list:
    return sorted(path for root in MIRRORED for path in (REPO / root).rglob("*.py") if path.stat().st_size)


def unit_tests() -> list:
    return sorted(path for path in UNIT.rglob("test_*.py") if "fixtures" not in path.relative_to(UNIT).parts)


@pytest.mark.parametrize("product", product_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_product_file_has_its_test_at_the_same_path(product):
    relative = product.relative_to(REPO)
    expected = UNIT / relative.parent / f"test_{relative.name}"
    assert expected.is_file(), f"{relative} has no test: write {expected.relative_to(REPO)}"


def as_module_name(name: str) -> str:
    """A product file or folder's name as a test module names it."""
    while any(name.endswith(suffix) for suffix in PRODUCT_SUFFIXES):
        name = name.rsplit(".", 1)[0]
    return name.replace("-", "_")


def names_a_product_path(test) -> bool:
    relative = test.relative_to(UNIT)
    stem = relative.stem.removeprefix("test_")
    return any(as_module_name(entry.name) == stem for entry in (REPO / relative.parent).iterdir()
               if entry.is_dir() or entry.suffix in PRODUCT_SUFFIXES)


@pytest.mark.parametrize("test", unit_tests(), ids=lambda p: str(p.relative_to(UNIT)))
def test_every_test_names_the_product_file_it_tests(test):
    relative = test.relative_to(UNIT)
    if len(relative.parts) == 1 and relative.name in COLLECTION_WIDE:
        return
    assert (REPO / relative.parent).is_dir(), f"{relative}: there is no {relative.parent} in the product"
    at_a_role = len(relative.parts) == 3 and relative.parts[0] == "roles"
    assert names_a_product_path(test) or at_a_role, (
        f"{relative}: names no product file or folder {relative.parent}/{relative.stem.removeprefix('test_')}")


SUITES = (REPO / "tests", REPO / "harness" / "tests", REPO / "tools" / "tests")


@pytest.mark.parametrize("test", sorted(path for suite in SUITES for path in suite.rglob("test_*.py")),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_test_module_imports_another(test):
    """Shared helpers live in fixture modules and conftest files (tests/*/fixtures, harness/fixtures.py), never in a
    test module another one imports."""
    imported = [node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(ast.parse(test.read_text(encoding="utf-8")))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else [None])]
    assert not [name for name in imported if name and name.rsplit(".", 1)[-1].startswith("test_")]
