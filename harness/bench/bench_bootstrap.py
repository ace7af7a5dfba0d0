"""`make bench`, second part: playbooks/bootstrap.yml (hosts stage off) on a fresh local control plane.

Reports wall time and the API requests the audit log saw for the first run, a no-op re-run and a check-mode run,
and, as the baseline, ArgoCD's install.yaml applied twice with kubernetes.core.k8s server-side apply on a second
fresh control plane.
"""
from __future__ import annotations

import json
import signal
import sys
import tempfile
from pathlib import Path

from harness.bench.bench_tenancy import measure
from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ControlPlane, binaries
from harness.inventory import bootstrap, write_platform_inventory
from harness.kube import argocd_manifest
from harness.playbooks import run_playbook

BASELINE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Namespace
      kubernetes.core.k8s: {{kubeconfig: "{kubeconfig}", kind: Namespace, name: argocd}}
    - name: ArgoCD install.yaml with server-side apply
      kubernetes.core.k8s:
        kubeconfig: "{kubeconfig}"
        namespace: argocd
        src: "{manifest}"
        apply: true
        server_side_apply: {{field_manager: baseline, force_conflicts: true}}
"""


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for flavour in ("collection", "baseline"):
            plane = ControlPlane(work / f"cp-{flavour}", binaries())
            plane.up()
            try:
                audit = AuditLog(plane.audit_log)
                if flavour == "collection":
                    inventory = write_platform_inventory(work / "inventory", plane.admin_kubeconfig)
                    results.append(measure("bootstrap.yml first run", audit, lambda: bootstrap(inventory)))
                    results.append(measure("bootstrap.yml no-op re-run", audit, lambda: bootstrap(inventory)))
                    results.append(measure("bootstrap.yml --check", audit, lambda: bootstrap(inventory, "--check")))
                else:
                    playbook = work / "baseline.yml"
                    playbook.write_text(BASELINE.format(kubeconfig=plane.admin_kubeconfig, manifest=argocd_manifest()))
                    results.append(measure("baseline (k8s, ArgoCD only) first run", audit,
                                           lambda: run_playbook(playbook)))
                    results.append(measure("baseline (k8s, ArgoCD only) re-run", audit,
                                           lambda: run_playbook(playbook)))
            finally:
                plane.down()
    print(json.dumps(results, indent=2))
    print(f"\n{'case':<42} {'seconds':>8} {'requests':>9} {'writes':>7} {'changed':>8}")
    for row in results:
        print(f"{row['case']:<42} {row['seconds']:>8} {row['requests']:>9} {row['writes']:>7} {row['changed']:>8}")


if __name__ == "__main__":
    main()
