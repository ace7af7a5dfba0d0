# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API as the collection's modules use it: kubernetes.core's connection options, discovery with
clear errors for missing platform APIs, one LIST per kind, server-side apply, every failure a ClusterApiError naming
the step and the object. How requests travel is kube/transport.py; how a cluster is named in messages,
kube/kubeconfig.py."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import traceback
from contextlib import contextmanager

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_MAP
# kubernetes.core's own reading of its connection options (K8S_AUTH_* fallbacks, in-cluster, a kubeconfig path -
# several joined with ':' - or dict, impersonation headers), so both collections connect alike. Imported outside
# the kubernetes guard below: the module imports without the client library, and a release that renames these
# fails every import (and the unit tests) instead of passing for a missing library. Its public get_api_client is
# not used: it builds a discovery client that sends /version and discovery requests with no timeout while it is
# constructed (docs/architecture.md, "Connecting to the cluster").
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    _create_auth_spec as auth_from_options,
    _create_configuration as configuration_from_auth,
    _create_headers as impersonation_headers,
    _set_header as set_header,
)

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.kubeconfig import describe, missing_kubeconfig
from ansible_collections.aphex.platform.plugins.module_utils.kube.transport import (
    CONCURRENT_REQUESTS,
    CONNECT_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    BoundedRetry,
    bound_requests,
    run_concurrently,
    unreachable,
)
from ansible_collections.aphex.platform.plugins.module_utils.naming import API_PROVIDERS, FIELD_MANAGER

try:
    import urllib3
    from kubernetes import client, dynamic
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()


class ClusterApiError(AphexError):
    """A request failed; the message says which object and why."""


class MissingApiError(ClusterApiError):
    pass


class ConflictError(ClusterApiError):
    """The object changed (or appeared) since it was read: a precondition or a create failed with 409."""


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
    def __init__(self, kubeconfig=None, context=None, request_timeout=DEFAULT_REQUEST_TIMEOUT, **connection):
        """Connect with kubernetes.core's options (args_common.AUTH_ARG_SPEC). Unset ones fall back to K8S_AUTH_*,
        except when kubeconfig is given: then the options alone name the cluster, so a variable left on the machine
        (K8S_AUTH_HOST and K8S_AUTH_API_KEY on a CI runner, say) never sends the run - or its prune - elsewhere."""
        if isinstance(kubeconfig, (list, tuple)):
            raise ClusterApiError("cannot connect to the cluster: kubeconfig must be a path (several joined with "
                                  f"'{os.pathsep}') or a kubeconfig as a dict")
        if isinstance(kubeconfig, str):
            # the option is kubernetes.core's type raw, which Ansible does not expand as it does a path
            kubeconfig = os.pathsep.join(os.path.expandvars(os.path.expanduser(path))
                                         for path in kubeconfig.split(os.pathsep))
        options = {"kubeconfig": kubeconfig, "context": context, **connection}
        if kubeconfig:
            given = {name: value for name, value in options.items() if value is not None}
            auth = {true_name: given[name] for true_name, name in AUTH_ARG_MAP.items() if name in given}
            # an empty value is "none" to kubernetes.core, and it then does not read K8S_AUTH_IMPERSONATE_*
            options = {"impersonate_user": "", "impersonate_groups": [], **given}
        else:
            auth = auth_from_options(**options)
        where = describe(auth)
        missing = missing_kubeconfig(auth)
        if missing:
            raise ClusterApiError(f"cannot connect to the cluster: {missing}")
        try:
            configuration = configuration_from_auth(auth)
        except Exception as error:  # any config problem: say which kubeconfig or host
            raise ClusterApiError(f"cannot use {where}: {error}") from error
        self.host = configuration.host
        configuration.retries = BoundedRetry(total=5, connect=2, read=1, status=3, redirect=0)
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, CONCURRENT_REQUESTS)
        api_client = client.ApiClient(configuration=configuration)
        for header, value in impersonation_headers(**options).items():
            set_header(api_client, header, value)
        bound_requests(api_client.rest_client, (min(CONNECT_TIMEOUT, request_timeout), request_timeout))
        self.timeout = request_timeout
        # Discovery is this run's own: the client's default cache is a file in the temp folder named after the
        # server's address and never expires, so a run read the API list of whatever cluster last answered at that
        # address (a reinstalled cluster, another test's control plane on a reused port) and sent nothing to learn
        # that the server there was gone. The folder goes when the run ends.
        self._discovery = tempfile.TemporaryDirectory(prefix="aphex-discovery-")
        with self._request(f"connecting to the API server ({where})"):
            self.dynamic = dynamic.DynamicClient(
                api_client, cache_file=os.path.join(self._discovery.name, "discovery.json"))
        self._resources = {}
        self.requests = {"list": 0, "get": 0, "apply": 0, "delete": 0, "create": 0, "patch": 0, "replace": 0}
        self._counting = threading.Lock()
        # discovery and its cache are not safe for concurrent calls
        self._discovering = threading.Lock()

    def _count(self, verb: str) -> None:
        with self._counting:
            self.requests[verb] += 1

    @staticmethod
    def concurrently(calls) -> list:
        """Independent requests (for different objects) CONCURRENT_REQUESTS at a time."""
        return run_concurrently(calls, CONCURRENT_REQUESTS)

    @contextmanager
    def _request(self, step: str):
        """Turn every failure of one request into a ClusterApiError naming the step and the object."""
        try:
            yield
        except (ResourceNotFoundError, NotFoundError):
            raise
        except DynamicApiError as error:
            if getattr(error, "status", None) == 409:
                raise ConflictError(f"{step} failed: {_reason(error)}") from error
            raise ClusterApiError(f"{step} failed: {_reason(error)}") from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise ClusterApiError(f"{step} failed: the API server {self.host} gave no answer "
                                  f"({unreachable(error)}, timeout {self.timeout} s)") from error

    def resource(self, api_version: str, kind: str):
        key = (api_version, kind)
        with self._discovering:
            return self._resource(key)

    def _resource(self, key: tuple):
        api_version, kind = key
        if key not in self._resources:
            try:
                with self._request(f"looking up the API of {kind} ({api_version})"):
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
             namespace: str | None = None, field_selector: str | None = None) -> list:
        resource = self.resource(api_version, kind)
        self._count("list")
        with self._request(f"listing {kind}"):
            # The answer decoded as plain JSON: the client's ResourceInstance wrapping and its to_dict cost four
            # times the decoding (3.3 s of a 8.5 s no-op at 500 organizations, docs/performance.md).
            response = resource.get(label_selector=label_selector, namespace=namespace,
                                    field_selector=field_selector, serialize=False)
            items = json.loads(response.data)["items"] or []
        # Items of a list response carry no apiVersion/kind; give them theirs.
        for item in items:
            item["apiVersion"], item["kind"] = api_version, kind
        return items

    def apply(self, manifest: dict, dry_run: bool = False, subresource: str | None = None) -> dict:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        metadata = manifest["metadata"]
        resource = self.resource(api_version, kind)
        if subresource:
            resource = resource.subresources[subresource]
        self._count("apply")
        where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
        with self._request(f"applying {kind} {where}{metadata['name']}"):
            applied = self.dynamic.server_side_apply(
                resource, body=manifest, name=metadata["name"], namespace=metadata.get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All" if dry_run else None,
                serialize=False)
            return json.loads(applied.data)

    def namespace_names(self) -> set:
        """Names of the namespaces that exist (one LIST)."""
        return {item["metadata"]["name"] for item in self.list("v1", "Namespace")}

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None):
        """One object, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        self._count("get")
        try:
            with self._request(f"reading {kind} {namespace + '/' if namespace else ''}{name}"):
                return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def forget_discovery(self) -> None:
        """After installing CRDs: look the served kinds up again."""
        self._resources.clear()
        self.dynamic.resources.invalidate_cache()

    def create(self, manifest: dict, dry_run: bool = False) -> dict:
        """POST; used where server-side apply's field ownership must not matter (Secrets others write to)."""
        metadata = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        self._count("create")
        namespace = metadata.get("namespace")
        with self._request(f"creating {manifest['kind']} {namespace + '/' if namespace else ''}{metadata['name']}"):
            return resource.create(body=manifest, namespace=namespace, dry_run="All" if dry_run else None).to_dict()

    def replace(self, manifest: dict) -> dict:
        """PUT with the manifest's resourceVersion: fails with ConflictError when the object changed since read."""
        metadata = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        self._count("replace")
        namespace = metadata.get("namespace")
        with self._request(f"replacing {manifest['kind']} {namespace + '/' if namespace else ''}{metadata['name']}"):
            return resource.replace(body=manifest, namespace=namespace).to_dict()

    def merge_patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict,
                    dry_run: bool = False) -> dict:
        """JSON merge patch of the given fields only; every other field and its owner stay as they are."""
        resource = self.resource(api_version, kind)
        self._count("patch")
        with self._request(f"patching {kind} {namespace + '/' if namespace else ''}{name}"):
            return resource.patch(body=patch, name=name, namespace=namespace,
                                  content_type="application/merge-patch+json",
                                  dry_run="All" if dry_run else None).to_dict()

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None,
               resource_version: str | None = None) -> bool:
        """Delete an object (only at resource_version, when given); False when it was already gone."""
        resource = self.resource(api_version, kind)
        self._count("delete")
        body = {"preconditions": {"resourceVersion": resource_version}} if resource_version else None
        try:
            with self._request(f"deleting {kind} {namespace + '/' if namespace else ''}{name}"):
                resource.delete(name=name, namespace=namespace, propagation_policy="Background", body=body)
        except NotFoundError:
            return False
        return True
