#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_apps
short_description: Render the platform app catalog into the root Application platform-root and apply it
version_added: 0.1.0
author: Aphex platform engineering (@aphex-platform)
description:
  - Merges O(overrides) into O(catalog) (a C(source) override replaces the whole source, C(enabled=false) disables
    an app), appends O(extra), keeps the apps of O(deployment_type) and renders each as a child of the root
    Application C(platform-root) - the argocd-apps chart with the children as C(valuesObject), so no Git
    repository has to be hosted. Each child gets its sync-wave annotation, the labels
    C(app.kubernetes.io/part-of=aphex-platform) and C(aphex.io/wave), the resources finalizer, automated sync with
    prune and self-heal and retry backoff. Sources are a Helm chart, a Git path or a manifest set of the
    collection, delivered through O(raw_chart).
  - Every invalid entry is reported (app and field) before anything is written. The root Application is written
    only when it differs (one list request to find out).
options:
  deployment_type:
    description: Which apps to deploy.
    type: str
    required: true
    choices: [kind, k3s]
  catalog:
    description: The platform apps (role C(aphex.platform.platform)'s C(platform_apps_catalog)).
    type: list
    elements: dict
    required: true
  overrides:
    description: App name to partial entry.
    type: dict
    default: {}
  extra:
    description: Further apps.
    type: list
    elements: dict
    default: []
  manifest_sets:
    description: Set name to its objects, as a list or as JSON text.
    type: dict
    default: {}
  apps_chart:
    description: The argocd-apps chart (C(repo), C(chart), C(version)).
    type: dict
    required: true
  raw_chart:
    description: The chart that outputs manifest sets verbatim (C(repo), C(chart), C(version)).
    type: dict
    required: true
  chart_mirror:
    description:
      - A Helm repository serving every chart of the catalog (an air-gapped mirror). When set, it replaces the
        repository of each Helm source, O(apps_chart) and O(raw_chart) included; chart names and versions stay.
      - Empty means each chart's own repository.
    type: str
    default: ""
  namespace:
    description: ArgoCD's namespace.
    type: str
    default: argocd
  repository:
    description:
      - The operator's Git repository that platform-root syncs from - the recommended production setup
        (docs/operations.md, "Day-2 changes through Git"). The children are written into O(repository.path) on
        O(repository.branch), one folder per app holding its Application (values and sync wave included), as one
        commit made only when a file differs, pushed before anything is written to the cluster and never over a
        push made meanwhile; platform-root then deploys that folder. What else the branch holds is kept.
      - Without it (the default) the children travel as the argocd-apps chart's values, as before.
    type: dict
    suboptions:
      url:
        description: The repository's HTTP(S) URL, as ArgoCD fetches it.
        type: str
        required: true
      branch:
        description: The branch bootstrap commits to and platform-root follows.
        type: str
        default: main
      path:
        description: The folder of the branch that holds the children (written whole by bootstrap).
        type: str
        default: platform
      credentials_secret:
        description:
          - A Secret in O(namespace) with the keys C(username) and C(password) - the ArgoCD repository Secret of
            O(repository.url) (label C(argocd.argoproj.io/secret-type=repository)), so bootstrap pushes with the
            credentials ArgoCD fetches with. Its values are never returned or logged.
          - Empty for a repository that needs no credentials.
        type: str
        default: platform-repository
extends_documentation_fragment:
  - aphex.platform.cluster
attributes:
  check_mode:
    support: full
    description: Server-side dry run.
  diff_mode:
    support: full
    description: The root Application's desired fields before and after; with O(repository), the files of the
      repository's folder that change.
"""

EXAMPLES = r"""
- name: Deploy the platform apps
  aphex.platform.platform_apps:
    kubeconfig: "{{ aphex_kubeconfig }}"
    deployment_type: k3s
    catalog: "{{ platform_apps_catalog }}"
    overrides: {gpu-operator: {enabled: false}}
    apps_chart: {repo: https://argoproj.github.io/argo-helm, chart: argocd-apps, version: 2.0.2}
    raw_chart: {repo: https://bedag.github.io/helm-charts/, chart: raw, version: 2.0.2}

- name: Deploy the platform apps from an air-gapped chart mirror
  aphex.platform.platform_apps:
    kubeconfig: "{{ aphex_kubeconfig }}"
    deployment_type: k3s
    catalog: "{{ platform_apps_catalog }}"
    apps_chart: {repo: https://argoproj.github.io/argo-helm, chart: argocd-apps, version: 2.0.2}
    raw_chart: {repo: https://bedag.github.io/helm-charts/, chart: raw, version: 2.0.2}
    chart_mirror: https://charts.mirror.internal/aphex

- name: Deploy the platform apps from the operator's Git repository
  aphex.platform.platform_apps:
    kubeconfig: "{{ aphex_kubeconfig }}"
    deployment_type: k3s
    catalog: "{{ platform_apps_catalog }}"
    apps_chart: {repo: https://argoproj.github.io/argo-helm, chart: argocd-apps, version: 2.0.2}
    raw_chart: {repo: https://bedag.github.io/helm-charts/, chart: raw, version: 2.0.2}
    repository:
      url: https://git.example.com/ops/platform.git
      path: clusters/lab-a
"""

RETURN = r"""
waves:
  description: The children by wave, in order.
  returned: success
  type: list
  elements: dict
  sample: [{wave: 0, applications: [traefik], revisions: {traefik: 37.4.0}}, {wave: 1, applications: [tekton-pipelines], revisions: {tekton-pipelines: 1.6.0}}]
summary:
  description: One line per wave with its apps, as the bootstrap's summary prints them.
  returned: success
  type: list
  elements: str
  sample: ["wave 0: platform-crds, traefik", "wave 1: tekton-pipelines"]
objects:
  description: The root Application's action (created, updated) when it changed.
  returned: success
  type: list
  elements: dict
repository:
  description: With O(repository), the branch's commit after the run and the files of the folder the run added,
    modified and removed (in check mode, those it would).
  returned: when O(repository) is set
  type: dict
  sample: {commit: 3f2c9d0e, added: [], modified: [platform/tekton-pipelines/application.yaml], removed: []}
requests:
  description: API requests sent, by verb.
  returned: success
  type: dict
"""

from ansible_collections.aphex.platform.plugins.module_utils.kube.manifests import converge
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import (
    platform_applications,
    platform_root_application,
    platform_waves,
    waves_summary,
)
from ansible_collections.aphex.platform.plugins.module_utils.platform.gitops import converge_repository
from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import secret_values
from ansible_collections.aphex.platform.plugins.module_utils.runner import run_module

ARGUMENTS = {
    "deployment_type": {"type": "str", "required": True, "choices": ["kind", "k3s"]},
    "catalog": {"type": "list", "elements": "dict", "required": True},
    "overrides": {"type": "dict", "default": {}},
    "extra": {"type": "list", "elements": "dict", "default": []},
    "manifest_sets": {"type": "dict", "default": {}},
    "apps_chart": {"type": "dict", "required": True},
    "raw_chart": {"type": "dict", "required": True},
    "chart_mirror": {"type": "str", "default": ""},
    "namespace": {"type": "str", "default": "argocd"},
    "repository": {"type": "dict", "options": {
        "url": {"type": "str", "required": True},
        "branch": {"type": "str", "default": "main"},
        "path": {"type": "str", "default": "platform"},
        # the name of the Secret holding them, not a secret
        "credentials_secret": {"type": "str", "default": "platform-repository", "no_log": False},
    }},
}


def push_children(run, children: dict) -> dict:
    """The children committed to the operator's repository (before anything is written to the cluster)."""
    repository, credentials = run.params["repository"], {}
    if repository["credentials_secret"]:
        credentials = secret_values(run.api, repository["credentials_secret"], run.params["namespace"],
                                    ("username", "password"), "the platform repository's credentials")
    return converge_repository(repository["url"], repository["branch"], repository["path"], children,
                               credentials.get("username", ""), credentials.get("password", ""), run.check_mode)


def converge_root(run):
    params = run.params
    children = platform_applications(params["catalog"], params["deployment_type"], params["overrides"],
                                     params["extra"], params["manifest_sets"], params["raw_chart"],
                                     params["chart_mirror"])
    pushed = push_children(run, children) if params["repository"] else None
    root = platform_root_application(children, params["apps_chart"], params["namespace"], params["chart_mirror"],
                                     params["repository"])
    converged = converge(run.api, [root], "platform-root", params["namespace"], False, run.check_mode)
    waves = platform_waves(children)
    result = {"changed": converged.changed or bool(pushed and pushed["changed"]), "waves": waves,
              "summary": waves_summary(waves), "objects": [r for r in converged.reports() if r["action"] != "unchanged"],
              "requests": dict(run.api.requests)}
    if pushed is not None:
        result["repository"] = {key: pushed[key] for key in ("commit", "added", "modified", "removed")}
    if run.diff:
        result["diff"] = converged.diffs() + ([repository_diff(params["repository"], pushed)]
                                              if pushed and pushed["changed"] else [])
    return result


def repository_diff(repository: dict, pushed: dict) -> dict:
    """The files of the repository's folder that change, as a diff Ansible prints."""
    header = f"{repository['url']} {repository['branch']}:{repository['path']}"
    before = sorted(pushed["modified"] + pushed["removed"])
    after = sorted(pushed["modified"] + pushed["added"])
    return {"before_header": header, "after_header": header, "before": "".join(f"{name}\n" for name in before),
            "after": "".join(f"{name}\n" for name in after)}


def main():
    run_module(ARGUMENTS, converge_root)


if __name__ == "__main__":
    main()
