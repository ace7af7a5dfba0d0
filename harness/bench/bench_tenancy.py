"""`make bench`: onboarding N organizations x M pipelines, at each size on a fresh local control plane.

For each size of BENCH_ORGS (default 50,500,1000; BENCH_PIPELINES per organization, 2): wall time, API requests
(audit log), writes and the modules' peak memory of playbooks/onboard.yml's first run, no-op re-run, --check,
a one-tenant edit (which must write only that tenant's objects) and a re-run after someone else changed one
object among all of them (which must repair exactly that one); and two floors: Ansible's (harness/bench/floor.yml:
the tenant lists through the same steps with a module that does nothing) and the LISTs' (every managed object read
once). The re-runs start once the control plane is
quiet after the first run (its controllers set up every new namespace), as a user's next run would. Then, at the
first size, a baseline playbook that applies the same objects with one kubernetes.core.k8s task per object
(BENCH_BASELINE=0 skips it). With more than one size, the table and a picture go into docs/performance.md
(BENCH_WRITE_DOCS=0: only build/bench/).
"""
from __future__ import annotations

import base64
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from kubernetes import client, config

from harness import REPO  # installs the collection's importer first
from ansible.module_utils.common.yaml import yaml_load
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import without_status
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.converge import MANAGED_SELECTOR
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
    ORGANIZATION_KINDS, PIPELINE_KINDS, TenancySettings, render_organization, render_pipeline)

from harness.playbooks import run_playbook
from harness.kube import install_platform_apis
from harness.controlplane.audit import WRITE_VERBS, AuditLog
from harness.controlplane.cluster import ADMIN_USER, ControlPlane, binaries
from harness.inventory import (
    HOST,
    PIPELINE_YAML,
    RUN_LOCK,
    onboard,
    org,
    pipeline,
    write_inventory,
)


FLOOR = REPO / "harness/bench/floor.yml"
PERFORMANCE = REPO / "docs/performance.md"
PICTURE = REPO / "docs/images/bench-tenancy.svg"
BENCH_BEGIN = "<!-- written by make bench (harness/bench/bench_tenancy.py): do not edit -->"
BENCH_END = "<!-- end of make bench's table -->"


def measure(label, audit, action, peak_log: Path | None = None, plane=None):
    mark = audit.mark()
    if peak_log is not None:
        peak_log.write_text("")
    cpu_before = control_plane_cpu_seconds(plane) if plane else 0.0
    started = time.monotonic()
    run = action()
    seconds = time.monotonic() - started
    control_plane_cpu = control_plane_cpu_seconds(plane) - cpu_before if plane else 0.0
    print(f"{label}: {seconds:.1f} s", flush=True)
    if run.returncode != 0:
        sys.exit(f"{label} failed:\n{run.output[-3000:]}")
    events = [e for e in audit.events(since=mark) if e.user == ADMIN_USER]
    writes = [e for e in events if e.verb in WRITE_VERBS and not e.dry_run]
    lock = [e for e in writes if (e.resource, e.namespace, e.name) == RUN_LOCK]
    peaks = [int(line) for line in peak_log.read_text().split()] if peak_log is not None else []
    # the objects the tenants own, as the two modules counted them (changed and unchanged)
    converged = [result for task in ("Converge the organizations", "Converge the pipelines")
                 for result in run.task_results(task, HOST) if "unchanged" in result]
    objects = sum(result["unchanged"] + len(result["objects"]) for result in converged) if converged else None
    return {"case": label, "objects": objects, "seconds": round(seconds, 1), "requests": len(events), "writes": len(writes) - len(lock),
            "lock_writes": len(lock), "dry_runs": sum(e.dry_run for e in events), "changed": run.changed,
            "peak_module_mib": round(max(peaks) / 1024) if peaks else None,
            # what the API server, etcd and the controller manager used meanwhile (of 2 cores x seconds)
            "control_plane_cpu": round(control_plane_cpu, 1) if plane else None,
            "written": sorted({(e.resource, e.namespace, e.name) for e in writes if e not in lock})}


def control_plane_cpu_seconds(plane) -> float:
    """User + system CPU time the control plane's recorded processes used so far."""
    total = 0
    for pid in (component["pid"] for component in plane.recorded_state()["components"]):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(plane, window=2.0, busy=0.1, limit=180) -> float:
    """After a first run, the controller manager still creates every new namespace's ServiceAccount and CA
    ConfigMap, and the API server and etcd serve it: a re-run measured then pays for that work. Wait until the
    control plane uses under `busy` of a core over `window` seconds; return how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = control_plane_cpu_seconds(plane)
        time.sleep(window)
        if (control_plane_cpu_seconds(plane) - before) / window < busy:
            break
    return round(time.monotonic() - started, 1)


RUNS = 3


def list_floor(plane, label: str) -> dict:
    """Reading every managed object once, as the two modules do together, one LIST after another with the
    collection's client: what the API server must send and the JSON that must be decoded. No run can read less."""
    api = ClusterApi(kubeconfig=str(plane.admin_kubeconfig))
    kinds = list(dict.fromkeys(ORGANIZATION_KINDS + PIPELINE_KINDS))
    api.require(kinds)
    started = time.monotonic()
    objects = sum(len(api.list(api_version, kind, MANAGED_SELECTOR)) for api_version, kind in kinds)
    seconds = time.monotonic() - started
    print(f"{label}: {seconds:.1f} s", flush=True)
    return {"case": label, "objects": objects, "seconds": round(seconds, 1), "requests": len(kinds), "writes": 0,
            "lock_writes": 0, "dry_runs": 0, "changed": 0, "peak_module_mib": None, "control_plane_cpu": None}


def median_of(measured) -> dict:
    """The row of the median run of RUNS; measured(n) makes the n-th."""
    rows = sorted((measured(number) for number in range(RUNS)), key=lambda row: row["seconds"])
    return rows[len(rows) // 2]


def tenant_variables(orgs: int, per_org: int) -> dict:
    return {
        "aphex_organizations": [org(f"o{i:03d}") for i in range(orgs)],
        "aphex_pipelines": [pipeline(f"o{i:03d}-p{j}", f"o{i:03d}", f"owner{i}/repo{j}")
                            for i in range(orgs) for j in range(per_org)],
    }


def drift_one_object(api_client, number: int) -> str:
    """Someone else changes one object among all of them: pipeline 1's quota of organization `number`."""
    namespace = f"o{number:03d}-p1"
    client.CoreV1Api(api_client).patch_namespaced_resource_quota(
        "tenant-quota", namespace, {"spec": {"hard": {"pods": "999"}}}, field_manager="someone-else")
    return namespace


def bench_collection(work: Path, plane, orgs: int, per_org: int) -> list:
    api_client = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    install_platform_apis(api_client)
    audit = AuditLog(plane.audit_log)
    variables = tenant_variables(orgs, per_org)
    inventory = write_inventory(work / "inventory", plane.admin_kubeconfig, **variables)
    # Every module run through the interpreter wrapper that logs its peak memory.
    peak_log = work / "peak-memory.log"
    interpreter = work / "python"
    interpreter.write_text(f"#!/bin/sh\nexec {sys.executable} {REPO / 'harness/bench/peak_memory.py'} \"$@\"\n")
    interpreter.chmod(0o755)
    environment = {"BENCH_PEAK_MEMORY_LOG": str(peak_log)}

    def run(*args):
        return onboard(inventory, "-e", f"ansible_python_interpreter={interpreter}", *args, extra_env=environment)

    size = f"{orgs}x{per_org}"

    def case(name, action=run):
        return measure(f"{size} {name}", audit, action, peak_log, plane)

    rows = [case("first run")]
    print(f"{size}: the control plane was quiet {wait_until_quiet(plane)} s after the first run", flush=True)

    def floor():
        return run_playbook(FLOOR, "-i", str(inventory), extra_env=environment)

    # Run-to-run noise on this machine is 10-20%: every case but the first run is the median of RUNS runs (the
    # edits and drifts each on another tenant).
    rows += [median_of(lambda _: case("no-op re-run")),
             median_of(lambda _: case("Ansible's floor", floor)),
             median_of(lambda _: list_floor(plane, f"{size} LIST floor")),
             median_of(lambda _: case("--check", lambda: run("--check")))]

    def edit_one_tenant(number):
        """An admin added to one organization, one of its pipelines moved to another repository."""
        name = f"o{number:03d}"
        edited = variables["aphex_organizations"][number]
        edited["admin_users"] = [*edited["admin_users"], f"second-admin@{name}.io"]
        variables["aphex_pipelines"][number * per_org]["repo"] = f"owner{number}/moved"
        write_inventory(work / "inventory", plane.admin_kubeconfig, **variables)
        edit = case("one-tenant edit")
        mine = (f"org-{name}", f"{name}-p0", name)
        outside = [entry for entry in edit["written"]
                   if not any(part in mine or part.startswith(mine[:2]) for part in entry[1:])]
        if outside or not edit["written"]:
            sys.exit(f"the edit of {name} wrote outside that tenant (or nothing): {outside or edit['written']}")
        return edit

    def repair_one_drift(number):
        drifted = drift_one_object(api_client, orgs // 2 + number)
        repair = case("one drifted object")
        quota = client.CoreV1Api(api_client).read_namespaced_resource_quota("tenant-quota", drifted)
        if repair["written"] != [("resourcequotas", drifted, "tenant-quota")] or quota.spec.hard["pods"] == "999":
            sys.exit(f"the drifted quota in {drifted} was not repaired alone: {repair['written']}, {quota.spec.hard}")
        return repair

    rows += [median_of(edit_one_tenant), median_of(repair_one_drift)]
    for row in rows:
        row["organizations"], row["pipelines"] = orgs, orgs * per_org
    return rows


def bench_baseline(work: Path, plane, orgs: int, per_org: int) -> list:
    install_platform_apis(config.new_client_from_config(config_file=str(plane.admin_kubeconfig)))
    audit = AuditLog(plane.audit_log)
    objects_file = work / "objects.json"
    objects_file.write_text(json.dumps(baseline_objects(tenant_variables(orgs, per_org))))
    args = ("-e", f"baseline_objects_file={objects_file}", "-e", f"baseline_kubeconfig={plane.admin_kubeconfig}")
    playbook = REPO / "harness/bench/baseline.yml"
    rows = [measure(f"{orgs}x{per_org} baseline first run", audit, lambda: run_playbook(playbook, *args)),
            measure(f"{orgs}x{per_org} baseline re-run", audit, lambda: run_playbook(playbook, *args))]
    for row in rows:
        row["organizations"], row["pipelines"] = orgs, orgs * per_org
    return rows


def main() -> None:
    # Stopped from outside, still stop the control planes (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [int(size) for size in os.environ.get("BENCH_ORGS", "50,500,1000").split(",")]
    per_org = int(os.environ.get("BENCH_PIPELINES", "2"))
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for orgs in sizes:
            work = Path(scratch) / f"collection-{orgs}"
            plane = ControlPlane(work / "cp", binaries())
            plane.up()
            try:
                results += bench_collection(work, plane, orgs, per_org)
            finally:
                plane.down()
        if os.environ.get("BENCH_BASELINE", "1") != "0":
            work = Path(scratch) / "baseline"
            plane = ControlPlane(work / "cp", binaries())
            plane.up()
            try:
                results += bench_baseline(work, plane, sizes[0], per_org)
            finally:
                plane.down()
    report(sizes, per_org, results)


def baseline_objects(variables) -> list:
    settings = TenancySettings()
    secret = base64.b64encode(b"0" * 64).decode()
    objects = []
    for entry in variables["aphex_organizations"]:
        mine = [p["name"] for p in variables["aphex_pipelines"] if p["organization"] == entry["name"]]
        objects += render_organization(entry, mine, secret, settings)
    document = yaml_load(PIPELINE_YAML)
    for entry in variables["aphex_pipelines"]:
        objects += render_pipeline(entry, document, secret, settings)
    return [without_status(o) for o in objects]


def report(sizes, per_org, results) -> None:
    header = (f"{'case':<34}{'seconds':>9}{'requests':>10}{'writes':>8}{'lock':>6}{'dry runs':>10}{'peak MiB':>10}"
              f"{'cp CPU s':>10}")
    print("\n" + header)
    for row in results:
        print(f"{row['case']:<34}{row['seconds']:>9}{row['requests']:>10}{row['writes']:>8}{row['lock_writes']:>6}"
              f"{row['dry_runs']:>10}{row['peak_module_mib'] or '':>10}{_blank(row.get('control_plane_cpu')):>10}")
    out = REPO / "build/bench"
    out.mkdir(parents=True, exist_ok=True)
    for row in results:
        row.pop("written", None)
    (out / "tenancy.json").write_text(json.dumps({"sizes": sizes, "pipelines_per_org": per_org, "results": results},
                                                 indent=2))
    if os.environ.get("BENCH_WRITE_DOCS", "1") != "0" and len(sizes) > 1:
        write_docs(sizes, per_org, results)


def _blank(value) -> str:
    return "" if value is None else str(value)


def _series(results, case) -> list:
    return [(row["organizations"], row) for row in results if row["case"].endswith(" " + case)
            and "baseline" not in row["case"]]


def write_docs(sizes, per_org, results) -> None:
    """The table and the picture in docs/performance.md, between the benchmark's markers."""
    rows = ["| case | organizations × pipelines | objects | seconds | requests | writes | dry runs | module peak MiB "
            "| control plane CPU s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results:
        rows.append(f"| {row['case'].split(' ', 1)[1]} | {row['organizations']} × {per_org} | {row['objects'] or ''} | "
                    f"{row['seconds']} | {row['requests']} | {row['writes']} | {row['dry_runs']} | "
                    f"{row['peak_module_mib'] or ''} | {_blank(row.get('control_plane_cpu'))} |")
    noop = dict((orgs, row["seconds"]) for orgs, row in _series(results, "no-op re-run"))
    floor = dict((orgs, row["seconds"]) for orgs, row in _series(results, "Ansible's floor"))
    lists = dict((orgs, row["seconds"]) for orgs, row in _series(results, "LIST floor"))
    floors = {orgs: floor[orgs] + lists[orgs] for orgs in noop}
    above = {orgs: noop[orgs] - floors[orgs] for orgs in noop}
    smallest = min(noop)

    def ratios(seconds):
        return ", ".join(f"{orgs}: {seconds[orgs] / seconds[smallest]:.1f}×" for orgs in sorted(seconds)
                         if orgs != smallest)

    block = "\n".join([BENCH_BEGIN, "", *rows, "",
                       f"Against the {smallest} × {per_org} size (medians of {RUNS} runs): no-op re-run {ratios(noop)}; "
                       f"the two floors (Ansible's + LIST) {ratios(floors)}; the no-op above them {ratios(above)}.", "",
                       "![seconds and module peak memory against organizations](images/bench-tenancy.svg)", "",
                       BENCH_END])
    document = PERFORMANCE.read_text()
    if BENCH_BEGIN in document:
        before, rest = document.split(BENCH_BEGIN, 1)
        document = before + block + rest.split(BENCH_END, 1)[1]
    else:
        document = document.rstrip("\n") + "\n\n" + block + "\n"
    PERFORMANCE.write_text(document)
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    PICTURE.write_text(svg_chart(results))


def svg_chart(results) -> str:
    """Two panels: seconds per case, and the module's peak memory, against organizations (plain SVG)."""
    width, height, margin = 360, 240, 44
    colours = {"first run": "#d62728", "no-op re-run": "#1f77b4", "one-tenant edit": "#2ca02c",
               "one drifted object": "#9467bd", "--check": "#ff7f0e", "Ansible's floor": "#7f7f7f",
               "LIST floor": "#bcbd22"}
    panels = [("seconds", lambda row: row["seconds"], list(colours)),
              ("module peak MiB", lambda row: row["peak_module_mib"] or 0, ["first run", "no-op re-run"])]
    every = [row for row in results if "baseline" not in row["case"]]
    x_max = max(row["organizations"] for row in every)
    legend = 11 * max(len(cases) for _title, _value, cases in panels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height + 12 + legend}" '
             'font-family="sans-serif" font-size="11">']
    for index, (title, value, cases) in enumerate(panels):
        left = index * width
        y_max = max(value(row) for row in every if row["case"].split(" ", 1)[1] in cases) or 1
        plot_w, plot_h = width - 2 * margin, height - 2 * margin

        def point(orgs, amount, left=left, y_max=y_max, plot_w=plot_w, plot_h=plot_h):
            return (left + margin + plot_w * orgs / x_max, margin + plot_h * (1 - amount / y_max))

        parts.append(f'<text x="{left + width / 2}" y="16" text-anchor="middle">{title} against organizations '
                     f'(x 2 pipelines)</text>')
        parts.append(f'<line x1="{left + margin}" y1="{margin + plot_h}" x2="{left + margin + plot_w}" '
                     f'y2="{margin + plot_h}" stroke="black"/><line x1="{left + margin}" y1="{margin}" '
                     f'x2="{left + margin}" y2="{margin + plot_h}" stroke="black"/>')
        parts.append(f'<text x="{left + margin - 4}" y="{margin + 4}" text-anchor="end">{y_max:g}</text>'
                     f'<text x="{left + margin - 4}" y="{margin + plot_h}" text-anchor="end">0</text>')
        for orgs in sorted({row["organizations"] for row in every}):
            x, _y = point(orgs, 0)
            parts.append(f'<text x="{x}" y="{margin + plot_h + 14}" text-anchor="middle">{orgs}</text>')
        for position, case in enumerate(cases):
            series = sorted((orgs, value(row)) for orgs, row in _series(results, case))
            coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(o, v) for o, v in series))
            parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{colours[case]}" stroke-width="2"/>')
            parts.append(f'<text x="{left + margin + 6}" y="{height + 8 + 11 * position}" '
                         f'fill="{colours[case]}">{case}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
