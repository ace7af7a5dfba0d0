"""Small helpers for tests that set up or inspect the control plane."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from harness import REPO
from harness.platform.catalog import role_defaults
# The ArgoCD release the platform role installs (its manifest, and the binaries the platform stack runs).
ARGOCD_VERSION = role_defaults()["platform_argocd_version"]


def argocd_manifest() -> Path:
    """ArgoCD's real install.yaml (cached with its SHA-256 by harness/builds/fetch-argocd.sh)."""
    out = subprocess.run(["bash", str(REPO / "harness/builds/fetch-argocd.sh"), ARGOCD_VERSION], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    return Path(out)


def argocd_crds(*names: str) -> list:
    """The named CustomResourceDefinitions of ArgoCD's release, as documents."""
    return [document for document in yaml.safe_load_all(argocd_manifest().read_text())
            if document and document["kind"] == "CustomResourceDefinition" and document["metadata"]["name"] in names]


def wait_for(predicate, timeout=60.0, interval=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def apply_files(api_client, *paths: Path) -> list:
    """Server-side apply every document of the files; wait for CRDs to be Established."""
    return apply_documents(api_client, [document for path in paths for document in
                                        yaml.safe_load_all(Path(path).read_text()) if document])


def apply_documents(api_client, documents) -> list:
    """Server-side apply the documents in order; wait for CRDs to be Established."""
    resources = dynamic.DynamicClient(api_client).resources
    applied = []
    for document in documents:
        resource = resources.get(api_version=document["apiVersion"], kind=document["kind"])
        resource.server_side_apply(body=document, field_manager="aphex-tests", force_conflicts=True)
        applied.append(document)
    extensions = client.ApiextensionsV1Api(api_client)
    for document in applied:
        if document["kind"] == "CustomResourceDefinition":
            name = document["metadata"]["name"]
            assert wait_for(lambda name=name: any(
                c.type == "Established" and c.status == "True"
                for c in extensions.read_custom_resource_definition(name).status.conditions or [])), name
    return applied


def ensure_namespace(api_client, name: str) -> None:
    try:
        client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    except ApiException as error:
        if error.status != 409:
            raise


def get(api_client, api_version: str, kind: str, name: str, namespace: str | None = None):
    """The object as a dict, or None when absent."""
    resource = dynamic.DynamicClient(api_client).resources.get(api_version=api_version, kind=kind)
    try:
        return resource.get(name=name, namespace=namespace).to_dict()
    except dynamic.exceptions.NotFoundError:
        return None


def list_labelled(api_client, api_version: str, kind: str, selector: str) -> list:
    resource = dynamic.DynamicClient(api_client).resources.get(api_version=api_version, kind=kind)
    return [item.to_dict() for item in resource.get(label_selector=selector).items]


def labelled_uids(api_client, selector: str) -> dict:
    """(kind, namespace, name) -> uid of every object of every listable kind the server serves, its preferred
    version only, carrying the labels of `selector`: what the platform manages, whatever kinds a release adds."""
    found = {}
    for resource in dynamic.DynamicClient(api_client).resources.search(preferred=True):
        if "/" in resource.name or "list" not in (resource.verbs or ()) or not resource.kind \
                or resource.kind.endswith("List"):
            continue
        try:
            items = resource.get(label_selector=selector).to_dict()["items"]
        except ApiException as error:
            if error.status in (404, 405, 503):  # an aggregated API that is not serving
                continue
            raise
        for item in items:
            metadata = item["metadata"]
            found[(resource.kind, metadata.get("namespace"), metadata["name"])] = metadata["uid"]
    return found


# The collection's CRDs, ClusterRoles and admission policies, and stand-ins for the CRDs of the platform apps
# whose schema the tests do not depend on.
PLATFORM_FILES = ("files/crds", "tests/integration/fixtures/crds", "files/rbac")
# ArgoCD's own CRDs, as released: the admission policies' expressions are type-checked against their schemas.
ARGOCD_CRDS = ("applications.argoproj.io", "appprojects.argoproj.io")


def install_platform_apis(api_client) -> None:
    """What the platform apps would have installed before tenants are onboarded."""
    for namespace in ("platform-system", "argocd"):  # the platform-crds app creates platform-system first
        ensure_namespace(api_client, namespace)
    apply_documents(api_client, argocd_crds(*ARGOCD_CRDS))
    apply_files(api_client, *(path for folder in PLATFORM_FILES for path in sorted((REPO / folder).glob("*.yaml"))))


def install_bootstrap_prerequisites(api_client) -> None:
    """What the platform apps would have installed for bootstrap's tenants stage, on a control plane that bootstrap
    gives ArgoCD's real CRDs (from its install manifest) - so without the stand-in argoproj CRDs."""
    ensure_namespace(api_client, "platform-system")
    apply_files(api_client, *(path for folder in PLATFORM_FILES for path in sorted((REPO / folder).glob("*.yaml"))
                              if "argoproj" not in path.name))
