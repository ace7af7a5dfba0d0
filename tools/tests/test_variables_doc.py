"""Issue 14 item 6: the variable reference in docs/variables.md is generated from the roles'
meta/argument_specs.yml and from the inventory's playbooks/vars/inventory_spec.yml (tools/variables_doc.py),
so an option added to a spec and not to the page, or a hand edit inside a generated block, fails here instead of
leaving the page quietly behind the roles and the inventory."""
import shutil

import pytest
import yaml

from tools import variables_doc

ROLE_SPECS = variables_doc.load_role_specs()
INVENTORY_SPEC = variables_doc.load_inventory_spec()
COMMITTED = variables_doc.DOC.read_text()
GENERATED = variables_doc.render_document(COMMITTED, ROLE_SPECS, INVENTORY_SPEC)
ALL_OPTIONS = [
    (role, entry_point, name)
    for role, argument_specs in ROLE_SPECS.items()
    for entry_point, spec in argument_specs.items()
    for name in spec.get("options") or {}
]


def role_section(role):
    return GENERATED.split(f"## Role `{variables_doc.COLLECTION}.{role}`", 1)[1].split(variables_doc.END, 1)[0]


def inventory_section(document):
    return document.split(variables_doc.INVENTORY_BEGIN, 1)[1].split(variables_doc.END, 1)[0]


def test_the_committed_page_is_what_the_generator_writes():
    assert COMMITTED == GENERATED, "docs/variables.md is stale: run make docs"


def test_the_inventory_block_is_committed_once_under_its_heading():
    """The sync test above covers the inventory table only while the page has its block; one added at the end by
    the generator would pass it too, so the block must sit right under the Inventory heading, once."""
    assert COMMITTED.count(variables_doc.INVENTORY_BEGIN) == 1
    assert "## Inventory\n\n" + variables_doc.INVENTORY_BEGIN + "\n" in COMMITTED
    assert "| variable | type | default | description |" in inventory_section(COMMITTED)


def test_an_option_added_to_a_spec_changes_the_page(tmp_path):
    """Without this, the comparison above could pass because the generator ignores the specs; an option added to
    a copy of one role's spec must show up in what is generated from the copied roles."""
    for role in ROLE_SPECS:
        shutil.copytree(variables_doc.ROLES_DIR / role / "meta", tmp_path / role / "meta")
    spec_file = tmp_path / "kind_cluster" / "meta" / "argument_specs.yml"
    argument_specs = yaml.safe_load(spec_file.read_text())
    argument_specs["argument_specs"]["main"]["options"]["kind_cluster_extra_probe"] = {
        "type": "int", "default": 7, "description": "Only in this test's copy."}
    spec_file.write_text(yaml.safe_dump(argument_specs))

    generated = variables_doc.render_document(COMMITTED, variables_doc.load_role_specs(tmp_path), INVENTORY_SPEC)

    assert generated != COMMITTED
    assert "| `kind_cluster_extra_probe` | int | `7` | no | Only in this test's copy. |" in generated


def test_an_option_added_to_the_inventory_spec_changes_the_page(tmp_path):
    """The same for the inventory: a variable added to a copy of playbooks/vars/inventory_spec.yml gets a row."""
    spec_file = tmp_path / "inventory_spec.yml"
    shutil.copyfile(variables_doc.INVENTORY_SPEC, spec_file)
    inventory_spec = yaml.safe_load(spec_file.read_text())
    inventory_spec[variables_doc.INVENTORY_SPEC_KEY]["options"]["aphex_extra_probe"] = {
        "type": "int", "default": 7, "description": "Only in this test's C(copy)."}
    spec_file.write_text(yaml.safe_dump(inventory_spec))

    generated = variables_doc.render_document(COMMITTED, ROLE_SPECS, variables_doc.load_inventory_spec(spec_file))

    assert generated != COMMITTED
    assert "| `aphex_extra_probe` | int | `7` | Only in this test's `copy`. |" in inventory_section(generated)


def test_every_inventory_variable_has_a_row_in_the_spec_order():
    section = inventory_section(GENERATED)
    names = list(INVENTORY_SPEC["options"])
    missing = [name for name in names if f"| `{name}` |" not in section]
    assert names and missing == []
    assert sorted(names, key=lambda name: section.index(f"| `{name}` |")) == names


def test_a_secret_inventory_variable_says_to_keep_it_in_a_vault():
    section = variables_doc.render_inventory({"short_description": "Example", "options": {
        "token": {"type": "str", "no_log": True, "description": "A token."},
        "plain": {"type": "str", "choices": ["a", "b"], "default": "a", "description": "Not secret."}}})

    assert "| `token` | str |  | A token. Secret (keep it in a vault); never logged. |" in section
    assert "| `plain` | str: `a`, `b` | `a` | Not secret. |" in section


def test_a_block_for_a_spec_that_does_not_exist_stops_the_generator():
    document = variables_doc.BEGIN_AT.format(source="playbooks/vars/elsewhere.yml") + "\n" + variables_doc.END
    with pytest.raises(ValueError, match="elsewhere"):
        variables_doc.render_document(document, ROLE_SPECS, INVENTORY_SPEC)


def test_every_option_of_every_entry_point_has_a_row():
    missing = [
        f"{role}/{entry_point}: {name}" for role, entry_point, name in ALL_OPTIONS
        if f"| `{name}` |" not in role_section(role)
    ]
    assert ALL_OPTIONS and missing == []


def test_an_option_only_some_entry_points_take_says_which():
    """The platform role shares one option set across its stage entry points through a YAML anchor, so each
    option is documented once; an option only one entry point declares must name it, not pass for all of them."""
    argument_specs = {
        "main": {"short_description": "Main", "options": {"shared": {"type": "str", "description": "Both."}}},
        "stage": {"short_description": "Stage", "options": {
            "shared": {"type": "str", "description": "Both."},
            "stage_only": {"type": "bool", "description": "One."}}},
    }

    section = variables_doc.render_role("example", argument_specs)

    assert section.count("| `shared` |") == 1
    assert "| `shared` | str |  | no | Both. |" in section
    assert "| `stage_only` | bool |  | no | One. Entry points: `stage`. |" in section


def test_table_cells_keep_pipes_and_markup_readable():
    section = variables_doc.render_role("example", {"main": {"short_description": "Example", "options": {
        "mode": {"type": "str", "choices": ["a|b", "c"], "default": "a|b",
                 "description": ["Either C(a|b) or O(other)", "in <dir>."]},
        "items": {"type": "list", "elements": "dict", "options": {"name": {"type": "str", "required": True}}},
    }}})

    assert r"| `mode` | str: `a\|b`, `c` | `a\|b` | no | Either `a\|b` or `other` in &lt;dir>. |" in section
    assert "| `items.name` | str |  | yes |  |" in section


def test_a_spec_key_the_generator_cannot_show_stops_it():
    """A key dropped silently would leave the page incomplete while the sync test passes."""
    with pytest.raises(ValueError, match="aliases"):
        variables_doc.render_role("example", {"main": {"options": {"x": {"type": "str", "aliases": ["y"]}}}})


READMES = variables_doc.readmes(ROLE_SPECS)


@pytest.mark.parametrize("path", sorted(READMES), ids=lambda path: path.parent.name)
def test_each_roles_readme_is_what_the_generator_writes(path):
    """Issue 28: Galaxy shows a role's README; it is generated from the role's spec and example play."""
    assert path.read_text() == READMES[path], f"{path.relative_to(variables_doc.REPO)} is stale: run make docs"


@pytest.mark.parametrize("role", sorted(ROLE_SPECS))
def test_a_readme_has_every_variable_of_the_role_and_an_example_play_of_it(role):
    readme = READMES[variables_doc.ROLES_DIR / role / "README.md"]
    for spec in ROLE_SPECS[role].values():
        for name in spec.get("options") or {}:
            assert f"| `{name}` |" in readme, (role, name)
    example = yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    plays = [play for play in example if isinstance(play, dict)]
    used = [str(play.get("roles", [])) + str(play.get("tasks", [])) for play in plays]
    assert any(f"aphex.platform.{role}" in text for text in used), role


def test_a_role_without_an_example_play_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"no example play for role\(s\) \['k3s'\]"):
        variables_doc.readmes({"k3s": ROLE_SPECS["k3s"]}, examples=tmp_path)
