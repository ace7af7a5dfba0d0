"""The upstream chart archives the catalog pins (../shared/charts): their values, schemas and subcharts, so tests can
check the catalog's values against what each chart really reads, and the mirror can serve them."""
from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from harness import SHARED
SHARED_CHARTS = SHARED / "charts"


@dataclass
class Chart:
    name: str
    version: str
    values: dict
    schema: dict | None
    # Subcharts by the key their values live under (alias or name).
    subcharts: dict = field(default_factory=dict)
    # The values paths a dependency's `condition` reads (e.g. postgresql.enabled): valid though no values.yaml
    # declares them.
    conditions: set = field(default_factory=set)
    # `.Values.a.b.c` paths the templates read.
    template_paths: set = field(default_factory=set)


def _load(files: dict, root: str) -> Chart:
    meta = yaml.safe_load(files[f"{root}/Chart.yaml"])
    schema_file = files.get(f"{root}/values.schema.json")
    templates = "\n".join(text.decode("utf-8", "replace") for name, text in files.items()
                          if name.startswith(f"{root}/templates/"))
    chart = Chart(name=meta["name"], version=str(meta["version"]),
                  values=yaml.safe_load(files.get(f"{root}/values.yaml", b"")) or {},
                  schema=json.loads(schema_file) if schema_file else None,
                  template_paths=set(re.findall(r"\.Values\.([A-Za-z0-9_.]+)", templates)))
    for dependency in meta.get("dependencies") or []:
        key = dependency.get("alias") or dependency["name"]
        if f"{root}/charts/{dependency['name']}/Chart.yaml" in files:
            chart.subcharts[key] = _load(files, f"{root}/charts/{dependency['name']}")
        for condition in str(dependency.get("condition") or "").split(","):
            if condition:
                chart.conditions.add(condition.strip())
    return chart


def load_chart(archive: Path) -> Chart:
    with tarfile.open(archive) as tar:
        files = {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()
                 and member.name.endswith((".yaml", ".yml", ".tpl", ".json", ".txt"))
                 and "/tests/" not in member.name}
    root = min(files, key=len).split("/")[0]
    return _load(files, root)


def shared_charts(folder: Path = SHARED_CHARTS) -> dict:
    """(chart name, version) to Chart, for every archive in the folder."""
    charts = {}
    for archive in sorted(folder.glob("*.tgz")):
        chart = load_chart(archive)
        charts[(chart.name, chart.version)] = chart
    return charts


def unknown_values(values: dict, chart: Chart, free_form: tuple = (), path: str = "") -> list:
    """Values paths the chart does not read: absent from its values.yaml (and its subcharts'), not a dependency
    condition, not a `.Values` path of its templates. Below a key whose default is an empty map, or a path in
    `free_form` (maps of user-chosen names such as nodeSelector), any key is the user's."""
    return _unknown(values, chart.values, chart, free_form, path, top=True)


def _unknown(values, defaults, chart, free_form, path, top):
    unknown = []
    for key, value in (values or {}).items():
        where = f"{path}.{key}" if path else key
        if top and key in chart.subcharts:
            sub = chart.subcharts[key]
            rest = {k: v for k, v in (value or {}).items() if k != "enabled" or where + ".enabled" not in chart.conditions}
            unknown += [f"{where}.{p}" for p in unknown_values(rest, sub, free_form=tuple(
                f[len(key) + 1:] for f in free_form if f.startswith(key + ".")))]
            continue
        if isinstance(defaults, dict) and key in defaults:
            default = defaults[key]
            if isinstance(value, dict) and isinstance(default, dict) and default and where not in free_form:
                unknown += _unknown(value, default, chart, free_form, where, top=False)
            continue
        if where in chart.conditions or (top and key == "global") or where in chart.template_paths:
            continue
        unknown.append(where)
    return unknown


def schema_problems(values: dict, chart: Chart, path: str = "") -> list:
    """What Helm's values.schema.json validation would refuse, for the chart and each subchart (whose values are
    its defaults merged with what the parent passes under its key)."""
    problems = []
    merged = _merge(chart.values, values)
    if chart.schema:
        validator = jsonschema.Draft7Validator(chart.schema)
        for error in validator.iter_errors(merged):
            location = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{path}{location}: {error.message}")
    for key, sub in chart.subcharts.items():
        sub_values = dict(merged.get(key) or {})
        if "global" in merged:
            sub_values["global"] = _merge(sub_values.get("global") or {}, merged["global"])
        if merged.get(key, {}).get("enabled", True) is False:
            continue
        problems += schema_problems(sub_values, sub, f"{path}{key}.")
    return problems


def _merge(base, override):
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override
