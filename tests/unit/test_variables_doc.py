"""Issue 14 item 6: the role-variable reference in docs/variables.md is generated from the roles'
meta/argument_specs.yml (tests/tools/variables_doc.py), so an option added to a spec and not to the page, or a
hand edit inside a generated block, fails here instead of leaving the page quietly behind the roles."""
import shutil

import pytest
import yaml

from tests.tools import variables_doc

ROLE_SPECS = variables_doc.load_role_specs()
COMMITTED = variables_doc.DOC.read_text()
GENERATED = variables_doc.render_document(COMMITTED, ROLE_SPECS)
ALL_OPTIONS = [
    (role, entry_point, name)
    for role, argument_specs in ROLE_SPECS.items()
    for entry_point, spec in argument_specs.items()
    for name in spec.get("options") or {}
]


def role_section(role):
    return GENERATED.split(f"## Role `{variables_doc.COLLECTION}.{role}`", 1)[1].split(variables_doc.END, 1)[0]


def test_the_committed_page_is_what_the_generator_writes():
    assert COMMITTED == GENERATED, "docs/variables.md is stale: run make docs"


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

    generated = variables_doc.render_document(COMMITTED, variables_doc.load_role_specs(tmp_path))

    assert generated != COMMITTED
    assert "| `kind_cluster_extra_probe` | int | `7` | no | Only in this test's copy. |" in generated


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
