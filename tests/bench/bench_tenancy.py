"""`make bench`: onboarding N organizations x M pipelines on a fresh local control plane.

Reports wall time and the API requests the audit log saw for the first run, a
no-op re-run and a check-mode run of playbooks/onboard.yml, side by side with
a baseline playbook that applies the same objects with one kubernetes.core.k8s
task per object. Sizes: BENCH_ORGS (default 50), BENCH_PIPELINES per org (2);
BENCH_BASELINE=0 skips the (slow) baseline.
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

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402
from kubernetes import config  # noqa: E402

_AnsibleCollectionFinder(paths=[str(REPO / ".collections")])._install()  # pylint: disable=protected-access

from ansible.module_utils.common.yaml import yaml_load  # noqa: E402
from ansible_collections.aphex.platform.plugins.module_utils.kube.reconcile import without_status  # noqa: E402
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (  # noqa: E402
    TenancySettings, render_organization, render_pipeline)

from tests.ansible_runner import run_playbook  # noqa: E402
from tests.conftest import install_platform_apis  # noqa: E402
from tests.controlplane.audit import WRITE_VERBS, AuditLog  # noqa: E402
from tests.controlplane.cluster import ADMIN_USER, ControlPlane, binaries  # noqa: E402
from tests.integration.tenancy_inventory import (  # noqa: E402
    PIPELINE_YAML,
    RUN_LOCK,
    onboard,
    org,
    pipeline,
    write_inventory,
)


def measure(label, audit, action):
    mark = audit.mark()
    started = time.monotonic()
    run = action()
    seconds = time.monotonic() - started
    if run.returncode != 0:
        sys.exit(f"{label} failed:\n{run.output[-3000:]}")
    events = [e for e in audit.events(since=mark) if e.user == ADMIN_USER]
    writes = [e for e in events if e.verb in WRITE_VERBS and not e.dry_run]
    lock = [e for e in writes if (e.resource, e.namespace, e.name) == RUN_LOCK]
    return {"case": label, "seconds": round(seconds, 1), "requests": len(events), "writes": len(writes) - len(lock),
            "lock_writes": len(lock), "dry_runs": sum(e.dry_run for e in events), "changed": run.changed}


def main() -> None:
    # Stopped from outside, still stop the control planes (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    orgs, per_org = int(os.environ.get("BENCH_ORGS", "50")), int(os.environ.get("BENCH_PIPELINES", "2"))
    variables = {
        "aphex_organizations": [org(f"o{i:03d}") for i in range(orgs)],
        "aphex_pipelines": [pipeline(f"o{i:03d}-p{j}", f"o{i:03d}", f"owner{i}/repo{j}")
                            for i in range(orgs) for j in range(per_org)],
    }
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        flavours = ("collection", "baseline") if os.environ.get("BENCH_BASELINE", "1") != "0" else ("collection",)
        for flavour in flavours:
            plane = ControlPlane(work / f"cp-{flavour}", binaries())
            plane.up()
            try:
                install_platform_apis(config.new_client_from_config(config_file=str(plane.admin_kubeconfig)))
                audit = AuditLog(plane.audit_log)
                if flavour == "collection":
                    inventory = write_inventory(work / "inventory", plane.admin_kubeconfig, **variables)
                    results.append(measure("onboard.yml first run", audit, lambda: onboard(inventory)))
                    results.append(measure("onboard.yml no-op re-run", audit, lambda: onboard(inventory)))
                    results.append(measure("onboard.yml --check", audit, lambda: onboard(inventory, "--check")))
                else:
                    objects_file = work / "objects.json"
                    objects_file.write_text(json.dumps(baseline_objects(variables)))
                    args = ("-e", f"baseline_objects_file={objects_file}",
                            "-e", f"baseline_kubeconfig={plane.admin_kubeconfig}")
                    playbook = REPO / "tests/bench/baseline.yml"
                    results.append(measure("baseline first run", audit, lambda: run_playbook(playbook, *args)))
                    results.append(measure("baseline re-run", audit, lambda: run_playbook(playbook, *args)))
            finally:
                plane.down()
    report(orgs, per_org, results)


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


def report(orgs, per_org, results) -> None:
    print(f"\nbenchmark: {orgs} organizations x {per_org} pipelines ({orgs * per_org} pipelines)")
    # the run lock's Lease (taken and given back) is counted apart from the writes to tenant objects
    print(f"{'case':<28}{'seconds':>9}{'requests':>10}{'writes':>8}{'lock':>6}{'dry runs':>10}{'changed':>9}")
    for row in results:
        print(f"{row['case']:<28}{row['seconds']:>9}{row['requests']:>10}{row['writes']:>8}"
              f"{row.get('lock_writes', 0):>6}{row['dry_runs']:>10}{row['changed']:>9}")
    by_case = {row["case"]: row for row in results}
    noop = by_case["onboard.yml no-op re-run"]
    summary = f"no-op re-run: {noop['seconds']} s with {noop['writes']} writes"
    if "baseline re-run" in by_case:
        summary += f"; {by_case['baseline re-run']['seconds'] / noop['seconds']:.1f}x faster than the baseline re-run"
    print(summary)
    out = REPO / "build/bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "tenancy.json").write_text(json.dumps({"orgs": orgs, "pipelines_per_org": per_org, "results": results},
                                                 indent=2))


if __name__ == "__main__":
    main()
