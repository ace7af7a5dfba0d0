"""The module_utils packages depend one way only: runner -> domain (tenancy, platform, cloudflare, gpu) -> kube ->
foundation (naming, data, errors, quantity). A lower layer importing a higher one, or one domain importing another,
fails here with the file and the import. Every module runs through the runner, the one caller of fail_json."""
import ast
import importlib
from pathlib import Path

import pytest
import yaml

from harness import REPO
ROOT = REPO / "plugins" / "module_utils"
PREFIX = "ansible_collections.aphex.platform.plugins.module_utils."
FOUNDATION, KUBE, DOMAIN, RUNNER = 0, 1, 2, 3
LAYER = {"naming": FOUNDATION, "data": FOUNDATION, "errors": FOUNDATION, "quantity": FOUNDATION, "kube": KUBE,
         "tenancy": DOMAIN, "platform": DOMAIN, "cloudflare": DOMAIN, "gpu": DOMAIN, "runner": RUNNER}
SOURCES = sorted(ROOT.rglob("*.py"))


def unit_of(path: Path) -> str:
    """The package (or top-level module) a file of module_utils belongs to."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def collection_imports(path: Path) -> list:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            names.append(node.module[len(PREFIX):])
        elif isinstance(node, ast.Import):
            names += [alias.name[len(PREFIX):] for alias in node.names if alias.name.startswith(PREFIX)]
    return names


def test_every_unit_of_module_utils_has_a_layer():
    assert {unit_of(path) for path in SOURCES if path.name != "__init__.py" or path.parent != ROOT} == set(LAYER)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_only(path):
    importer = unit_of(path)
    for imported in collection_imports(path):
        target = imported.split(".")[0]
        assert target in LAYER, f"{path.relative_to(ROOT)} imports {imported}, which has no layer"
        if target == importer:
            continue
        assert LAYER[target] < LAYER[importer], (
            f"{path.relative_to(ROOT)} ({importer}, layer {LAYER[importer]}) imports {imported} "
            f"({target}, layer {LAYER[target]}): dependencies point down only")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_file_imports_on_its_own(path):
    module = PREFIX + ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    importlib.import_module(module)


def test_a_filter_of_the_catalog_does_not_load_the_kubernetes_client():
    """Filters run in every Ansible worker that templates them; the catalog's must not pay for the client import."""
    tree = {node.module for path in (ROOT / "platform" / "catalog.py", ROOT / "platform" / "argocd.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.ImportFrom)}
    assert not {module for module in tree if module and ".kube." in module}


MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_module_runs_through_the_runner(path):
    """A module is its documentation and one call of run_module (artifact is an action plugin's documentation)."""
    source = path.read_text(encoding="utf-8")
    if path.stem == "artifact":
        assert "def main" not in source
        return
    assert "from ansible_collections.aphex.platform.plugins.module_utils.runner import" in source
    assert "run_module(" in source and "AnsibleModule(" not in source


def test_fail_json_is_called_in_one_place():
    callers = [path.relative_to(REPO) for path in sorted((REPO / "plugins").rglob("*.py"))
               if "fail_json(" in path.read_text(encoding="utf-8")]
    assert callers == [Path("plugins/module_utils/runner.py")]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_modules_documentation_is_yaml(path):
    """DOCUMENTATION, EXAMPLES and RETURN parse (a colon and a space inside a sentence makes a YAML key)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    blocks = {node.targets[0].id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
              and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN")}
    assert set(blocks) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    for name, text in blocks.items():
        assert yaml.safe_load(text) is not None, name
