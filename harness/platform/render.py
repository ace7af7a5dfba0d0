"""Render each child Application of the platform the way ArgoCD's repo-server does - `helm template` with the
pinned Helm, the app's name as the release, its destination namespace, CRDs included, from the chart mirror - and
apply the result to a control plane wave by wave, CRDs before their objects."""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import yaml

KUBE_VERSION = "v1.37.2"
# The kube-apiserver would call these (webhooks, aggregated APIs): they are validated by a server-side dry run,
# never created, so nothing it dials can exist (and the egress guard refuses it anyway).
DRY_RUN_ONLY = {("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
                ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
                ("apiregistration.k8s.io", "APIService")}


def group_kind(document: dict) -> tuple:
    return document["apiVersion"].rpartition("/")[0], document["kind"]


def render(helm: Path, name: str, application: dict, charts: Path) -> list:
    """The objects ArgoCD would apply for the child `name`: `helm template` of its chart archive in `charts`."""
    source = application["source"]
    archive = charts / f"{source['chart']}-{source['targetRevision']}.tgz"
    if not archive.exists():
        raise FileNotFoundError(f"{name}: the mirror has no {archive.name}")
    namespace = application["destination"].get("namespace") or "default"
    with tempfile.NamedTemporaryFile("w", suffix=".json") as values:
        json.dump((source.get("helm") or {}).get("valuesObject") or {}, values)
        values.flush()
        out = subprocess.run([str(helm), "template", name, str(archive), "--namespace", namespace, "--include-crds",
                              "--skip-tests", "--kube-version", KUBE_VERSION, "--values", values.name],
                             check=False, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{name}: helm template failed: {out.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


class Applier:
    def __init__(self, kubectl: Path, kubeconfig: Path):
        self.kubectl, self.kubeconfig = kubectl, kubeconfig

    def _run(self, documents: list, *args) -> str:
        out = subprocess.run([str(self.kubectl), "--kubeconfig", str(self.kubeconfig), *args, "-f", "-"],
                             input=yaml.safe_dump_all(documents), capture_output=True, text=True, check=False)
        return out.stderr.strip() if out.returncode else ""

    def apply(self, name: str, namespace: str | None, documents: list, create_namespace: bool) -> list:
        """Server-side apply as ArgoCD does (CRDs first and Established, then the rest); returns the errors."""
        apply = ["apply", "--server-side", "--force-conflicts", f"--field-manager=render-{name}"]
        errors = []
        if create_namespace and namespace:
            errors.append(self._run([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}],
                                    *apply))
        crds = [d for d in documents if group_kind(d) == ("apiextensions.k8s.io", "CustomResourceDefinition")]
        if crds:
            errors.append(self._run(crds, *apply))
            names = [f"crd/{d['metadata']['name']}" for d in crds]
            out = subprocess.run([str(self.kubectl), "--kubeconfig", str(self.kubeconfig), "wait",
                                  "--for=condition=Established", "--timeout=60s", *names],
                                 capture_output=True, text=True, check=False)
            errors.append(out.stderr.strip() if out.returncode else "")
        dry = [d for d in documents if group_kind(d) in DRY_RUN_ONLY]
        rest = [d for d in documents if d not in crds and d not in dry]
        namespace_args = ["-n", namespace] if namespace else []
        if dry:
            errors.append(self._run(dry, *apply, "--dry-run=server"))
        if rest:
            errors.append(self._run(rest, *apply, *namespace_args))
        return [f"{name}: {error}" for error in errors if error]
