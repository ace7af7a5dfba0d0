"""Publishing check (`make lint`): build the collection's tarball and import it the way Galaxy does, then read the
documentation of every plugin and role from the tarball installed alone.

1. galaxy-importer (tests/requirements-galaxy.txt, its own virtualenv) with Galaxy's settings
   (tools/galaxy-importer.cfg): the tarball's metadata and files, each role's README, every plugin's documentation
   through ansible-doc, ansible-lint with the production profile - with no other collection to be found, as on
   Galaxy, which installs none of a collection's dependencies to import it.
2. ansible-doc on the tarball installed into an empty collections path: every module, plugin and role documented
   and parsable.

Fails on any import error, any unparsable document, and any warning the importer gives that is not listed below
with its reason (docs/operations.md, "Releases").

    python tools/galaxy_import.py --importer .venv-galaxy/bin/python
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "tools" / "galaxy-importer.cfg"
PLUGIN_TYPES = ("module", "filter", "role")
# The warnings of an import that stay, each with why: (pattern, reason). An empty list: the import gives none.
EXPECTED_WARNINGS: list[tuple[str, str]] = []


def isolated_environment(collections_path: Path) -> dict:
    """Ansible sees only the collections under collections_path: not the ones a Python installation bundles."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    environment.update({"ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                        "ANSIBLE_CONFIG": str(collections_path / "absent.cfg"), "ANSIBLE_NOCOLOR": "1"})
    return environment


def build(output: Path) -> Path:
    ansible_galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(ansible_galaxy), "collection", "build", "--force", "--output-path", str(output), str(REPO)],
                   check=True, capture_output=True, text=True)
    [tarball] = output.glob("aphex-platform-*.tar.gz")
    return tarball


def galaxy_import(importer_python: Path, tarball: Path) -> list[str]:
    """The importer's problems: errors, unexpected warnings, plugins whose documentation it could not read."""
    work = Path(tempfile.mkdtemp(prefix="galaxy-import-"))
    try:
        # HOME too: ansible-lint also looks in ~/.ansible/collections, where molecule and ansible-lint itself
        # install this collection (an older copy, say), which Galaxy's importer never has
        environment = {**isolated_environment(work / "none"), "GALAXY_IMPORTER_CONFIG": str(CONFIG), "HOME": str(work),
                       "PATH": f"{importer_python.parent}{os.pathsep}{os.environ['PATH']}"}
        run = subprocess.run([str(importer_python), "-m", "galaxy_importer.main", "--print-result", str(tarball)],
                             cwd=work, env=environment, capture_output=True, text=True, check=False, timeout=900)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    output = run.stdout + run.stderr
    print(output if len(output) < 20000 else output[:20000] + "\n[... cut]")
    log, _brace, result = run.stdout.partition("\n{")
    problems = [f"the importer exited {run.returncode}"] if run.returncode else []
    problems += [line for line in log.splitlines() if line.startswith("ERROR")]
    problems += [f"unexpected warning: {line}" for line in log.splitlines() if line.startswith("WARNING")
                 and not any(re.search(pattern, line) for pattern, _reason in EXPECTED_WARNINGS)]
    if result:
        imported = json.loads("{" + result)["docs_blob"]
        # a filter file may hold several filters (k3s.py): Galaxy lists the file too, documented through its filters
        filter_files = {path.stem for path in (REPO / "plugins" / "filter").glob("*.py")} - {
            path.stem for path in (REPO / "plugins" / "filter").glob("*.yml")}
        for content in imported["contents"]:
            if content["content_type"] == "filter" and content["content_name"] in filter_files:
                continue
            if content["content_type"] in ("module", "filter") and not content.get("doc_strings"):
                problems.append(f"Galaxy shows no documentation for {content['content_type']} "
                                f"{content['content_name']}")
        readme = imported.get("collection_readme") or {}
        if not readme.get("html"):
            problems.append("Galaxy shows no README for the collection")
    elif not problems:
        problems.append("the importer printed no result")
    return problems


def installed_documentation(tarball: Path) -> list[str]:
    """ansible-doc's problems with the tarball installed alone."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="galaxy-installed-") as folder:
        collections = Path(folder)
        environment = isolated_environment(collections)
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p",
                        str(collections), str(tarball)], check=True, capture_output=True, text=True, env=environment)
        for plugin_type in PLUGIN_TYPES:
            listed = subprocess.run([str(bin_dir / "ansible-doc"), "-t", plugin_type, "--list", "--json",
                                     "aphex.platform"], capture_output=True, text=True, env=environment, check=False)
            names = sorted(json.loads(listed.stdout or "{}")) if listed.returncode == 0 else []
            if listed.returncode or not names:
                problems.append(f"ansible-doc lists no {plugin_type} of aphex.platform: {listed.stderr.strip()}")
                continue
            shown = subprocess.run([str(bin_dir / "ansible-doc"), "-t", plugin_type, "--json", *names],
                                   capture_output=True, text=True, env=environment, check=False)
            documents = json.loads(shown.stdout or "{}") if shown.returncode == 0 else {}
            problems += [f"ansible-doc: {line}" for line in shown.stderr.splitlines()
                         if "ERROR" in line or "WARNING" in line]
            # a plugin's document is under "doc"; a role's, under each of its entry points
            problems += [f"ansible-doc could not read the documentation of {plugin_type} {name}"
                         for name in names if not (documents.get(name) or {}).get("doc" if plugin_type != "role"
                                                                                  else "entry_points")]
            print(f"ansible-doc: {len(names)} {plugin_type}(s) of the installed tarball documented")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--importer", type=Path, required=True, help="the Python of galaxy-importer's virtualenv")
    parser.add_argument("--output", type=Path, default=REPO / "build" / "galaxy")
    args = parser.parse_args(argv)
    if args.output.exists():
        shutil.rmtree(args.output)
    args.output.mkdir(parents=True)
    tarball = build(args.output)
    importer = args.importer.absolute()  # not resolved: the virtualenv is its link, not the interpreter it points to
    problems = galaxy_import(importer, tarball) + installed_documentation(tarball)
    for problem in problems:
        print(f"galaxy_import: {problem}", file=sys.stderr)
    if not problems:
        print(f"galaxy_import: OK: {tarball.name} imports as Galaxy imports it; every plugin and role is documented")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
