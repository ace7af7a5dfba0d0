"""Re-run bootstrap.yml on one live platform again and again: every re-run must report changed=0 and send no write
but the run lock's (the audit log), or this prints which task changed what. The live platform is the one
tests/integration/test_platform_sync.py bootstraps (the k3s catalog synced by a real ArgoCD); it is stopped at the
end. For an idempotence failure seen once (docs/testing.md, "Re-runs").

    .venv/bin/python -m tools.rerun_check --runs 10 [--deployment-type k3s|kind]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.inventory import RUN_LOCK, bootstrap
from harness.platform.live import K3S_TEST_MODE, TEST_MODE, bootstrapped_platform


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--deployment-type", choices=("k3s", "kind"), default="k3s")
    parser.add_argument("--pause", type=float, default=0, help="seconds between re-runs (ArgoCD works meanwhile)")
    args = parser.parse_args(argv)
    settings = K3S_TEST_MODE if args.deployment_type == "k3s" else TEST_MODE
    failures = 0
    with tempfile.TemporaryDirectory(prefix="rerun-check-") as work, \
            bootstrapped_platform(Path(work), args.deployment_type, settings) as platform:
        if platform["first"].returncode != 0:
            print(platform["first"].output[-4000:])
            return 1
        audit = AuditLog(platform["plane"].audit_log)
        for number in range(1, args.runs + 1):
            time.sleep(args.pause)
            mark, started = audit.mark(), time.monotonic()
            run = bootstrap(platform["inventory"], "--diff")
            writes = [(e.verb, e.resource, e.namespace, e.name) for e in audit.writes(since=mark, user=ADMIN_USER)
                      if (e.resource, e.namespace, e.name) != RUN_LOCK]
            ok = run.returncode == 0 and run.changed == 0 and not writes
            failures += not ok
            print(f"re-run {number}: rc={run.returncode} changed={run.changed} writes={len(writes)} "
                  f"{time.monotonic() - started:.0f} s {'ok' if ok else 'FAILED'}", flush=True)
            if not ok:
                print(json.dumps({"changed": run.changed_tasks, "writes": writes, "fields": run.changed_fields},
                                 indent=1, default=str)[:8000])
                if run.returncode:
                    print(run.output[-4000:])
    print(f"{args.runs - failures} of {args.runs} re-runs wrote nothing and reported no change")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
