"""Generate the variable reference of docs/variables.md and each role's README from the argument specs.

The roles' meta/argument_specs.yml are what Ansible validates a role's input against, and
playbooks/vars/inventory_spec.yml is what bootstrap.yml and onboard.yml validate the inventory's aphex_* variables
against, so they are the one home of each option's type, default and meaning; docs/variables.md only repeats them,
between marker comments this script owns (text outside the markers - secrets, prose - is kept as it is), and each
roles/<role>/README.md - what Galaxy shows for the role - is written whole from the role's spec and its example play
(docs/examples/roles/<role>.yml, a playbook ansible-lint checks).

    python tools/variables_doc.py          rewrite docs/variables.md and the role READMEs
    python tools/variables_doc.py --check  exit 1 with a diff when any of them is stale
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ROLES_DIR = REPO / "roles"
DOC = REPO / "docs/variables.md"
COLLECTION = "aphex.platform"
INVENTORY_SPEC = REPO / "playbooks/vars/inventory_spec.yml"
INVENTORY_SPEC_KEY = "aphex_inventory_spec"
EXAMPLES = REPO / "docs/examples/roles"
README_NOTICE = "<!-- generated from meta/argument_specs.yml and docs/examples/roles/{role}.yml by tools/variables_doc.py: do not edit -->"
SPEC_PATH = "roles/{role}/meta/argument_specs.yml"
BEGIN_AT = "<!-- generated from {source} by tools/variables_doc.py: do not edit -->"
BEGIN = BEGIN_AT.format(source=SPEC_PATH)
INVENTORY_BEGIN = BEGIN_AT.format(source=INVENTORY_SPEC.relative_to(REPO))
END = "<!-- end generated -->"
BLOCK = re.compile(
    re.escape(BEGIN_AT).replace(re.escape("{source}"), r"(?P<source>\S+)") + r"\n.*?" + re.escape(END),
    re.DOTALL,
)
ROLE_SOURCE = re.compile(re.escape(SPEC_PATH).replace(re.escape("{role}"), "(?P<role>[a-z0-9_]+)"))
# Keys the renderer knows how to show; anything else stops the run rather than silently going undocumented.
OPTION_KEYS = {"type", "elements", "choices", "default", "required", "no_log", "description", "options"}
ENTRY_POINT_KEYS = {"short_description", "description", "options"}
# Ansible's documentation markup: C(code), O(option), M(module) and the like, as ansible-doc writes them.
CODE_MARKUP = re.compile(r"(?<![\w$])[CEMOV]\(([^)]*)\)")
PLAIN_MARKUP = re.compile(r"(?<![\w$])[IBU]\(([^)]*)\)")
LINK_MARKUP = re.compile(r"(?<![\w$])L\(([^,)]*),\s*([^)]*)\)")
CODE_SPAN = re.compile(r"(`[^`]*`)")


def load_role_specs(roles_dir: Path = ROLES_DIR) -> dict[str, dict]:
    """Each role's `argument_specs` mapping (entry point name to spec), by role name."""
    return {
        spec_file.parents[1].name: yaml.safe_load(spec_file.read_text())["argument_specs"]
        for spec_file in sorted(roles_dir.glob("*/meta/argument_specs.yml"))
    }


def load_inventory_spec(spec_file: Path = INVENTORY_SPEC) -> dict:
    """The inventory's spec: short_description, description and options, in the format of a role entry point."""
    return yaml.safe_load(spec_file.read_text())[INVENTORY_SPEC_KEY]


def markdown_text(text: str | list[str]) -> str:
    """One line of Markdown from a spec description (a string or a list of paragraphs) with Ansible markup."""
    joined = " ".join(text) if isinstance(text, list) else str(text)
    joined = " ".join(joined.split())
    joined = LINK_MARKUP.sub(r"[\1](\2)", joined)
    joined = CODE_MARKUP.sub(r"`\1`", joined)
    joined = PLAIN_MARKUP.sub(r"\1", joined)
    # A bare <word> outside a code span would be read as an HTML tag and vanish from the rendered page.
    return "".join(part if CODE_SPAN.fullmatch(part) else part.replace("<", "&lt;")
                   for part in CODE_SPAN.split(joined))


def table_cell(text: str) -> str:
    return text.replace("|", r"\|")


def yaml_value(value) -> str:
    """A default as it would be written in YAML vars; strings YAML would read as something else are quoted."""
    if isinstance(value, str):
        try:
            reads_back = yaml.safe_load(value) == value
        except yaml.YAMLError:
            reads_back = False
        return value if reads_back else json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=sys.maxsize).strip().removesuffix(
        "\n...").strip()


def code(text: str) -> str:
    return f"`{text}`"


def type_cell(option: dict) -> str:
    kind = option.get("type", "str")
    if "elements" in option:
        kind = f"{kind} of {option['elements']}"
    if "choices" in option:
        kind += ": " + ", ".join(code(yaml_value(choice)) for choice in option["choices"])
    return kind


def option_description(name: str, option: dict) -> str:
    """The option's description as Markdown; an argument spec key with no rendering stops the run."""
    unknown = set(option) - OPTION_KEYS
    if unknown:
        raise ValueError(f"{name}: no rendering for the argument spec key(s) {sorted(unknown)}")
    return markdown_text(option.get("description", ""))


def table_row(cells: list[str]) -> str:
    return "| " + " | ".join(table_cell(cell) for cell in cells) + " |"


def option_rows(name: str, option: dict, entry_points: list[str], all_entry_points: list[str]) -> list[str]:
    """Table rows of one option and, as `name.sub`, of the options nested under its dict or list elements."""
    description = option_description(name, option)
    if option.get("no_log"):
        description += " Never logged."
    if entry_points != all_entry_points:
        description += " Entry points: " + ", ".join(code(entry) for entry in entry_points) + "."
    cells = [
        code(name),
        type_cell(option),
        code(yaml_value(option["default"])) if "default" in option else "",
        "yes" if option.get("required") else "no",
        description.strip(),
    ]
    rows = [table_row(cells)]
    for sub_name, sub_option in (option.get("options") or {}).items():
        rows += option_rows(f"{name}.{sub_name}", sub_option, entry_points, all_entry_points)
    return rows


def entry_point_paragraphs(spec: dict) -> list[str]:
    """The short description as a sentence, then one paragraph per element of the description."""
    summary = markdown_text(spec.get("short_description", "")).rstrip(".")
    details = spec.get("description", [])
    details = [details] if isinstance(details, str) else details
    return ([f"{summary}."] if summary else []) + [markdown_text(paragraph) for paragraph in details]


def declarations_of(role: str, argument_specs: dict) -> dict:
    """Each option once with the entry points declaring it: an option shared through a YAML anchor is documented
    once; the same name declared differently by two entry points gets one per declaration."""
    for entry_point, spec in argument_specs.items():
        unknown = set(spec) - ENTRY_POINT_KEYS
        if unknown:
            raise ValueError(f"{role}/{entry_point}: no rendering for the argument spec key(s) {sorted(unknown)}")
    declarations: dict[tuple[str, str], tuple[dict, list[str]]] = {}
    for entry_point, spec in argument_specs.items():
        for name, option in (spec.get("options") or {}).items():
            identity = (name, json.dumps(option, sort_keys=True, default=str))
            declarations.setdefault(identity, (option, []))[1].append(entry_point)
    return declarations


def render_role(role: str, argument_specs: dict) -> str:
    """The Markdown section of one role: its entry points and one table row per option."""
    entry_points = list(argument_specs)
    declarations = declarations_of(role, argument_specs)

    return "\n".join([f"## Role `{COLLECTION}.{role}`", "", *role_body(argument_specs, declarations, entry_points)])


def role_body(argument_specs: dict, declarations: dict, entry_points: list) -> list:
    """What the role does (its entry points) and the table of its variables, as lines."""
    lines = []
    if entry_points == ["main"]:
        lines.append("\n\n".join(entry_point_paragraphs(argument_specs["main"])))
    else:
        lines += ["Entry points (`tasks_from`):", ""]
        lines += [f"- `{entry_point}`: " + " ".join(entry_point_paragraphs(spec))
                  for entry_point, spec in argument_specs.items()]
    lines += ["", "| variable | type | default | required | description |", "|---|---|---|---|---|"]
    for (name, _spec_identity), (option, declared_by) in declarations.items():
        lines += option_rows(name, option, declared_by, entry_points)
    return lines


def render_readme(role: str, argument_specs: dict, example: str) -> str:
    """The role's README (what Galaxy shows): what it does, its entry points and variables, an example play."""
    entry_points = list(argument_specs)
    lines = [README_NOTICE.format(role=role), f"# Role `{COLLECTION}.{role}`", ""]
    lines += role_body(argument_specs, declarations_of(role, argument_specs), entry_points)
    lines += ["", "Ansible checks these variables against the role's `meta/argument_specs.yml` before the role runs;",
              f"`ansible-doc -t role {COLLECTION}.{role}` shows the same. The platform's inventory variables",
              "(`aphex_*`), which the playbooks map onto the roles, are in the collection's docs/variables.md.",
              "", "## Example", "", "```yaml", example.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def readmes(role_specs: dict[str, dict], examples: Path = EXAMPLES) -> dict[Path, str]:
    """Each role's README path and text; a role without an example play stops the run."""
    missing = [role for role in role_specs if not (examples / f"{role}.yml").is_file()]
    if missing:
        raise ValueError(f"no example play for role(s) {missing}: write docs/examples/roles/<role>.yml")
    return {ROLES_DIR / role / "README.md": render_readme(role, specs, (examples / f"{role}.yml").read_text())
            for role, specs in role_specs.items()}


def inventory_rows(name: str, option: dict) -> list[str]:
    """Table rows of one inventory variable and, as `name.sub`, of the options nested under it."""
    description = option_description(name, option)
    if option.get("required"):
        description += " Required."
    if option.get("no_log"):
        description += " Secret (keep it in a vault); never logged."
    cells = [
        code(name),
        type_cell(option),
        code(yaml_value(option["default"])) if "default" in option else "",
        description.strip(),
    ]
    rows = [table_row(cells)]
    for sub_name, sub_option in (option.get("options") or {}).items():
        rows += inventory_rows(f"{name}.{sub_name}", sub_option)
    return rows


def render_inventory(spec: dict) -> str:
    """The inventory's variables: the spec's description, then one table row per option in the spec's order."""
    unknown = set(spec) - ENTRY_POINT_KEYS
    if unknown:
        raise ValueError(f"{INVENTORY_SPEC_KEY}: no rendering for the key(s) {sorted(unknown)}")
    lines = ["\n\n".join(entry_point_paragraphs(spec))]
    lines += ["", "| variable | type | default | description |", "|---|---|---|---|"]
    for name, option in (spec.get("options") or {}).items():
        lines += inventory_rows(name, option)
    return "\n".join(lines)


def render_block(role: str, argument_specs: dict) -> str:
    return "\n".join([BEGIN.format(role=role), render_role(role, argument_specs), END])


def render_inventory_block(spec: dict) -> str:
    return "\n".join([INVENTORY_BEGIN, render_inventory(spec), END])


def render_document(document: str, role_specs: dict[str, dict], inventory_spec: dict) -> str:
    """The document with every generated block rewritten; a spec without a block yet gets one at the end."""
    sources = [match["source"] for match in BLOCK.finditer(document)]
    duplicated = {source for source in sources if sources.count(source) > 1}
    if duplicated:
        raise ValueError(f"{DOC.name}: more than one generated block for {sorted(duplicated)}")
    inventory_source = str(INVENTORY_SPEC.relative_to(REPO))
    placed = [match["role"] for match in map(ROLE_SOURCE.fullmatch, sources) if match]
    unknown = set(sources) - {SPEC_PATH.format(role=role) for role in role_specs} - {inventory_source}
    if unknown:
        raise ValueError(f"{DOC.name}: generated blocks for specs that do not exist: {sorted(unknown)}")

    def render(match: re.Match) -> str:
        if match["source"] == inventory_source:
            return render_inventory_block(inventory_spec)
        role = ROLE_SOURCE.fullmatch(match["source"])["role"]
        return render_block(role, role_specs[role])

    document = BLOCK.sub(render, document)
    missing = ([] if inventory_source in sources else [render_inventory_block(inventory_spec)]) + [
        render_block(role, role_specs[role]) for role in role_specs if role not in placed]
    for block in missing:
        document = document.rstrip("\n") + "\n\n" + block + "\n"
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a unified diff when the file is stale")
    args = parser.parse_args(argv)
    role_specs = load_role_specs()
    outputs = {DOC: render_document(DOC.read_text(), role_specs, load_inventory_spec()), **readmes(role_specs)}
    stale = 0
    for path, generated in outputs.items():
        current = path.read_text() if path.exists() else ""
        if generated == current:
            continue
        if not args.check:
            path.write_text(generated)
            continue
        relative = str(path.relative_to(REPO))
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(keepends=True), generated.splitlines(keepends=True),
            fromfile=f"{relative} (committed)", tofile=f"{relative} (generated)"))
        print(f"{relative} is stale: run make docs", file=sys.stderr)
        stale = 1
    return stale


if __name__ == "__main__":
    sys.exit(main())
