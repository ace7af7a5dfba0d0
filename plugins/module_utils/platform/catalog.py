# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's app-of-apps, from data: the catalog (role defaults), overridden and extended from inventory,
rendered as the values of the argocd-apps chart that the root Application platform-root deploys. Used by the
platform_apps module and, for previews, by the filters of the same names."""

from __future__ import annotations

import copy
import json

from ansible_collections.aphex.platform.plugins.module_utils.data import MergeError, deep_merge, strategic_merge
from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import ARGOCD_V1ALPHA1, DNS_LABEL, LABEL_WAVE
from ansible_collections.aphex.platform.plugins.module_utils.platform.argocd import SYNC_WAVE
from ansible_collections.aphex.platform.plugins.module_utils.platform.gitops import repository_folder

PART_OF = "aphex-platform"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"
DEPLOYMENT_TYPES = ("kind", "k3s")
# The AppProject of platform-root and its children. ArgoCD's `default` project is locked (no source, no
# destination), so an Application that names no project of its own, or names `default`, deploys nothing.
PLATFORM_PROJECT = "platform"
RETRY = {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}


class CatalogError(AphexError):
    """The catalog, an override or an extra app is invalid; the message names the app and the field."""


def merged_catalog(catalog: list, overrides: dict | None = None, extra: list | None = None) -> list:
    """Catalog entries with inventory overrides merged in and extra entries appended; unknown names and duplicates
    are errors. A `source` override replaces the whole source (a mirror); `version` sets the chart version or Git
    revision and `values` merges into the chart's values, keeping the rest of the source."""
    entries = {}
    for entry in list(catalog) + list(extra or []):
        name = entry.get("name")
        if name in entries:
            raise CatalogError(f"platform app '{name}' is defined twice (catalog and platform_apps_extra)")
        entries[name] = copy.deepcopy(entry)
    for name, override in (overrides or {}).items():
        if name not in entries:
            raise CatalogError(f"platform_apps_overrides.{name}: no such platform app (known: "
                               f"{', '.join(sorted(entries))})")
        override = dict(override or {})
        if "source" in override:
            entries[name]["source"] = copy.deepcopy(override.pop("source"))
        source = entries[name].get("source") or {}
        if "version" in override:
            version = str(override.pop("version"))
            if "helm" in source:
                source["helm"]["version"] = version
            elif "git" in source:
                source["git"]["revision"] = version
            else:
                raise CatalogError(f"platform_apps_overrides.{name}.version: the app's source has no version "
                                   f"(it is a manifest set of the collection)")
        if "values" in override:
            if "helm" not in source:
                raise CatalogError(f"platform_apps_overrides.{name}.values: only Helm sources have values")
            source["helm"]["values"] = deep_merge(source["helm"].get("values") or {}, override.pop("values"))
        entries[name] = deep_merge(entries[name], override)
    return list(entries.values())


def _problems(entry: dict, manifest_sets: dict) -> list:
    name = entry.get("name") or ""
    where = f"platform app '{name}'"
    problems = []
    if not DNS_LABEL.match(name) or len(name) > 53:
        problems.append(f"{where}: name must be a DNS label of at most 53 characters")
    if not isinstance(entry.get("wave"), int):
        problems.append(f"{where}: wave must be an integer")
    namespace = entry.get("namespace")
    if namespace is not None and not DNS_LABEL.match(str(namespace)):
        problems.append(f"{where}: namespace '{namespace}' is not a valid namespace name")
    unknown_types = set(entry.get("types", DEPLOYMENT_TYPES)) - set(DEPLOYMENT_TYPES)
    if unknown_types:
        problems.append(f"{where}: types may only contain kind and k3s, not {', '.join(sorted(unknown_types))}")
    source = entry.get("source") or {}
    kinds = [kind for kind in ("helm", "git", "manifests") if kind in source]
    if len(kinds) != 1:
        problems.append(f"{where}: source needs exactly one of helm, git, manifests")
    elif kinds[0] == "helm" and not all(source["helm"].get(k) for k in ("repo", "chart", "version")):
        problems.append(f"{where}: source.helm needs repo, chart and version")
    elif kinds[0] == "git" and not all(source["git"].get(k) for k in ("repo", "path", "revision")):
        problems.append(f"{where}: source.git needs repo, path and revision")
    elif kinds[0] == "manifests" and manifest_sets is not None and source["manifests"] not in manifest_sets:
        problems.append(f"{where}: source.manifests '{source['manifests']}' is not a manifest set of the "
                        f"collection ({', '.join(sorted(manifest_sets))})")
    if "patches" in source:
        problems.extend(_patch_problems(where, source, kinds))
    return problems


def _patch_problems(where: str, source: dict, kinds: list) -> list:
    if kinds != ["manifests"]:
        return [f"{where}: source.patches applies to manifest sets only (a chart has values)"]
    if not isinstance(source["patches"], list):
        return [f"{where}: source.patches must be a list"]
    problems = []
    for index, patch in enumerate(source["patches"]):
        field = f"{where}: source.patches[{index}]"
        if not isinstance(patch, dict):
            problems.append(f"{field} must be a mapping with kind, name and patch")
            continue
        named = [key for key in ("kind", "name", "namespace") if key != "namespace" or key in patch]
        problems.extend(f"{field}.{key} must be a non-empty string" for key in named
                        if not isinstance(patch.get(key), str) or not patch[key])
        if not isinstance(patch.get("patch"), dict) or not patch.get("patch"):
            problems.append(f"{field}.patch must be a non-empty mapping (merged into the object by name)")
        unknown = set(patch) - {"kind", "name", "namespace", "patch"}
        if unknown:
            problems.append(f"{field}: unknown keys {', '.join(sorted(unknown))} (kind, name, namespace, patch)")
    return problems


def _patched(objects: list, patches: list, where: str) -> list:
    """The manifest set's objects with each patch merged into the one object it names (kind, name and, when
    given, namespace): a patch that names no object, or more than one, is an error, so an upstream rename cannot
    drop the platform's setting silently."""
    objects = list(objects)
    for index, patch in enumerate(patches):
        wanted = {key: patch[key] for key in ("name", "namespace") if key in patch}
        matching = [position for position, manifest in enumerate(objects)
                    if manifest.get("kind") == patch["kind"]
                    and all((manifest.get("metadata") or {}).get(key) == value for key, value in wanted.items())]
        named = "/".join(str(wanted[key]) for key in ("namespace", "name") if key in wanted)
        if len(matching) != 1:
            raise CatalogError(f"{where}: source.patches[{index}] names {patch['kind']} {named}, which the "
                               f"manifest set holds {len(matching)} times (it must name exactly one object)")
        try:
            objects[matching[0]] = strategic_merge(objects[matching[0]], patch["patch"])
        except MergeError as error:
            raise CatalogError(f"{where}: source.patches[{index}].patch: {error}") from None
    return objects


def _objects(manifest_set):
    """A manifest set: a list of objects, or the same as JSON text."""
    return json.loads(manifest_set) if isinstance(manifest_set, str) else manifest_set


def chart_repo(repo: str, chart_mirror: str | None = None) -> str:
    """Where ArgoCD fetches a chart from: the chart mirror when one is set (one Helm repository serving every chart
    of the catalog, for air-gapped installs), else the chart's own repository."""
    return chart_mirror or repo


def _source(name: str, source: dict, manifest_sets: dict, raw_chart: dict, chart_mirror: str | None = None) -> dict:
    if "helm" in source:
        helm = source["helm"]
        rendered = {"repoURL": chart_repo(helm["repo"], chart_mirror), "chart": helm["chart"],
                    "targetRevision": str(helm["version"])}
        if helm.get("values"):
            rendered["helm"] = {"valuesObject": copy.deepcopy(helm["values"])}
        return rendered
    if "git" in source:
        git = source["git"]
        rendered = {"repoURL": git["repo"], "path": git["path"], "targetRevision": str(git["revision"])}
        if git.get("directory"):
            rendered["directory"] = copy.deepcopy(git["directory"])
        return rendered
    # Collection-rendered objects travel as the values of a chart that outputs them verbatim, so no Git
    # repository has to be hosted for them.
    objects = _patched(_objects(manifest_sets[source["manifests"]]), source.get("patches") or [],
                       f"platform app '{name}'")
    return {"repoURL": chart_repo(raw_chart["repo"], chart_mirror), "chart": raw_chart["chart"],
            "targetRevision": str(raw_chart["version"]), "helm": {"valuesObject": {"resources": objects}}}


def deployed_entries(catalog: list, deployment_type: str, overrides: dict | None = None, extra: list | None = None,
                     manifest_sets: dict | None = None) -> list:
    """The entries of the catalog, overridden and extended, that the deployment type deploys, by wave and name."""
    if deployment_type not in DEPLOYMENT_TYPES:
        raise CatalogError(f"aphex_deployment_type must be kind or k3s, not '{deployment_type}'")
    entries = merged_catalog(catalog, overrides, extra)
    problems = [problem for entry in entries for problem in _problems(entry, manifest_sets)]
    if problems:
        raise CatalogError("; ".join(problems))
    return [entry for entry in sorted(entries, key=lambda e: (e["wave"], e["name"]))
            if entry.get("enabled", True) and deployment_type in entry.get("types", DEPLOYMENT_TYPES)]


def tenant_ingress_namespaces(catalog: list, deployment_type: str, overrides: dict | None = None,
                              extra: list | None = None) -> list:
    """Namespaces of the deployed apps marked `tenant_ingress: true` (ingress controllers): their pods are the
    only ones outside an organization that the tenant network policy lets reach pipeline pods."""
    entries = deployed_entries(catalog, deployment_type, overrides, extra, manifest_sets=None)
    return sorted({entry["namespace"] for entry in entries if entry.get("tenant_ingress") and entry.get("namespace")})


def platform_applications(catalog: list, deployment_type: str, overrides: dict | None = None,
                          extra: list | None = None, manifest_sets: dict | None = None,
                          raw_chart: dict | None = None, chart_mirror: str | None = None,
                          project: str = PLATFORM_PROJECT) -> dict:
    """The child Applications for one deployment type, as the argocd-apps chart's `applications` value; with
    `chart_mirror`, every Helm source (the raw chart's included) is fetched from that repository."""
    manifest_sets = manifest_sets or {}
    applications = {}
    for entry in deployed_entries(catalog, deployment_type, overrides, extra, manifest_sets):
        sync_policy = {"syncOptions": list(entry.get("sync_options") or [])}
        if entry.get("automated", True):
            sync_policy["automated"] = {"prune": True, "selfHeal": True}
        sync_policy["retry"] = copy.deepcopy(entry.get("retry") or RETRY)
        destination = {"server": IN_CLUSTER}
        if entry.get("namespace"):
            destination["namespace"] = entry["namespace"]
        application = {
            "namespace": "argocd",
            "additionalLabels": {"app.kubernetes.io/part-of": PART_OF, LABEL_WAVE: str(entry["wave"])},
            "additionalAnnotations": {SYNC_WAVE: str(entry["wave"])},
            "finalizers": [FINALIZER],
            "project": project,
            "source": _source(entry["name"], entry["source"], manifest_sets, raw_chart or {}, chart_mirror),
            "destination": destination,
            "syncPolicy": sync_policy,
        }
        if entry.get("ignore_differences"):
            application["ignoreDifferences"] = copy.deepcopy(entry["ignore_differences"])
        applications[entry["name"]] = application
    return applications


def platform_root_application(applications: dict, apps_chart: dict, namespace: str = "argocd",
                              chart_mirror: str | None = None, repository: dict | None = None) -> dict:
    """The root Application platform-root: the argocd-apps chart with the children as values, so the platform
    needs no Git repository of its own - or, with `repository` ({url, branch, path}), the folder of the operator's
    repository that bootstrap wrote the same children into (gitops.py), one Application file per child."""
    if repository:
        source = {"repoURL": repository["url"], "targetRevision": repository["branch"],
                  "path": repository_folder(repository["path"]), "directory": {"recurse": True}}
    else:
        source = {"repoURL": chart_repo(apps_chart["repo"], chart_mirror), "chart": apps_chart["chart"],
                  "targetRevision": str(apps_chart["version"]),
                  "helm": {"valuesObject": {"applications": applications}}}
    return {
        "apiVersion": ARGOCD_V1ALPHA1,
        "kind": "Application",
        "metadata": {"name": "platform-root", "namespace": namespace, "finalizers": [FINALIZER],
                     "labels": {"app.kubernetes.io/name": "platform-root"}},
        "spec": {
            "project": PLATFORM_PROJECT,
            "source": source,
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            # Server-side apply: ArgoCD adds finalizers of its own to a child whose chart has post-delete hooks
            # (gpu-operator's); a client-side apply replaces the whole list, so self-heal stripped them and the
            # child's controller put them back, every few seconds, and the cleanup hooks would not have run.
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": copy.deepcopy(RETRY),
                           "syncOptions": ["ServerSideApply=true"]},
        },
    }


def platform_waves(applications: dict) -> list:
    """The children grouped by wave, in order: [{wave, applications, revisions}] - revisions: each app's chart
    version or Git revision, so a wait can tell an app ArgoCD has not yet updated from one that is done."""
    grouped = {}
    for name, application in applications.items():
        grouped.setdefault(int(application["additionalAnnotations"][SYNC_WAVE]), []).append(name)
    return [{"wave": wave, "applications": sorted(names),
             "revisions": {name: applications[name]["source"]["targetRevision"] for name in sorted(names)}}
            for wave, names in sorted(grouped.items())]


def waves_summary(waves: list) -> list:
    """One line per wave, for the end of a bootstrap: "wave 0: platform-crds, traefik"."""
    return [f"wave {wave['wave']}: {', '.join(wave['applications'])}" for wave in waves]
