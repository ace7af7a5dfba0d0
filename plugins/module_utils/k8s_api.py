# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API as the tenancy modules use it: discovery with clear
errors for missing platform APIs, one LIST per kind, server-side apply."""

from __future__ import annotations

import json
import traceback

from ansible_collections.aphex.platform.plugins.module_utils.naming import FIELD_MANAGER

try:
    from kubernetes import config, dynamic
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

# Which platform app serves each API group the tenants need.
API_PROVIDERS = {
    "aphex.io": "platform-crds",
    "tekton.dev": "tekton-pipelines",
    "triggers.tekton.dev": "tekton-triggers",
    "external-secrets.io": "external-secrets",
    "argoproj.io": "argocd",
}


def connect(module) -> "ClusterApi":
    """The module's cluster (options kubeconfig and context), or fail_json saying what is missing or wrong."""
    from ansible.module_utils.basic import missing_required_lib

    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    try:
        return ClusterApi(module.params["kubeconfig"], module.params["context"])
    except ClusterApiError as error:
        module.fail_json(msg=str(error))
        raise  # not reached: fail_json exits


class ClusterApiError(Exception):
    """A request failed; the message says which object and why."""


class MissingApiError(ClusterApiError):
    pass


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _reason(error) -> str:
    """The API server's message (its Status body), else the error itself."""
    body = getattr(error, "body", None) or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body).get("message") or str(error)
    except ValueError:
        return str(error)


class ClusterApi:
    def __init__(self, kubeconfig=None, context=None):
        try:
            client = config.new_client_from_config(config_file=kubeconfig, context=context)
            self.dynamic = dynamic.DynamicClient(client)
        except Exception as error:  # config and discovery errors alike: say which kubeconfig
            raise ClusterApiError(f"cannot use kubeconfig {kubeconfig or '(default)'}"
                                  f"{' context ' + context if context else ''}: {error}") from error
        self._resources = {}
        self.requests = {"list": 0, "get": 0, "apply": 0, "delete": 0, "create": 0, "patch": 0}

    def resource(self, api_version: str, kind: str):
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self.dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                provider = API_PROVIDERS.get(_group(api_version))
                hint = f": install the platform app '{provider}' first (bootstrap.yml, stage apps)" if provider else ""
                raise MissingApiError(f"the cluster does not serve {kind} ({api_version}){hint}") from None
        return self._resources[key]

    def require(self, kinds) -> None:
        """Fail before any write when a kind is not served; name every missing one."""
        missing = []
        for api_version, kind in kinds:
            try:
                self.resource(api_version, kind)
            except MissingApiError as error:
                missing.append(str(error))
        if missing:
            raise MissingApiError("; ".join(missing))

    def list(self, api_version: str, kind: str, label_selector: str | None = None,
             namespace: str | None = None) -> list:
        resource = self.resource(api_version, kind)
        self.requests["list"] += 1
        try:
            result = resource.get(label_selector=label_selector, namespace=namespace)
        except DynamicApiError as error:
            raise ClusterApiError(f"listing {kind} failed: {_reason(error)}") from error
        # Items of a list response carry no apiVersion/kind; give them theirs.
        return [{**item.to_dict(), "apiVersion": api_version, "kind": kind} for item in result.items]

    def apply(self, manifest: dict, dry_run: bool = False, subresource: str | None = None) -> dict:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        metadata = manifest["metadata"]
        resource = self.resource(api_version, kind)
        if subresource:
            resource = resource.subresources[subresource]
        self.requests["apply"] += 1
        try:
            applied = self.dynamic.server_side_apply(
                resource, body=manifest, name=metadata["name"], namespace=metadata.get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All" if dry_run else None)
        except DynamicApiError as error:
            where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
            raise ClusterApiError(f"applying {kind} {where}{metadata['name']} failed: {_reason(error)}") from error
        return applied.to_dict()

    def namespace_names(self) -> set:
        """Names of the namespaces that exist (one LIST)."""
        return {item["metadata"]["name"] for item in self.list("v1", "Namespace")}

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None):
        """One object, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        self.requests["get"] += 1
        try:
            return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except DynamicApiError as error:
            raise ClusterApiError(f"reading {kind} {namespace or ''}/{name} failed: {_reason(error)}") from error

    def forget_discovery(self) -> None:
        """After installing CRDs: look the served kinds up again."""
        self._resources.clear()
        self.dynamic.resources.invalidate_cache()

    def create(self, manifest: dict, dry_run: bool = False) -> dict:
        """POST; used where server-side apply's field ownership must not matter (Secrets others write to)."""
        metadata = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        self.requests["create"] += 1
        try:
            return resource.create(body=manifest, namespace=metadata.get("namespace"),
                                   dry_run="All" if dry_run else None).to_dict()
        except DynamicApiError as error:
            raise ClusterApiError(f"creating {manifest['kind']} {metadata.get('namespace', '')}/{metadata['name']}"
                                  f" failed: {_reason(error)}") from error

    def merge_patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict,
                    dry_run: bool = False) -> dict:
        """JSON merge patch of the given fields only; every other field and its owner stay as they are."""
        resource = self.resource(api_version, kind)
        self.requests["patch"] += 1
        try:
            return resource.patch(body=patch, name=name, namespace=namespace,
                                  content_type="application/merge-patch+json",
                                  dry_run="All" if dry_run else None).to_dict()
        except DynamicApiError as error:
            raise ClusterApiError(f"patching {kind} {namespace or ''}/{name} failed: {_reason(error)}") from error

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None) -> bool:
        """Delete an object; False when it was already gone."""
        resource = self.resource(api_version, kind)
        self.requests["delete"] += 1
        try:
            resource.delete(name=name, namespace=namespace, propagation_policy="Background")
        except NotFoundError:
            return False
        except DynamicApiError as error:
            raise ClusterApiError(f"deleting {kind} {name} failed: {_reason(error)}") from error
        return True
