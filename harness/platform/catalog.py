"""The platform role's catalog as the role renders it - its defaults and vars templated by Ansible's Templar, the
manifest templates through the `ansible.builtin.template` lookup, the children through platform_applications -
for tests that check the result (SSO wiring) or render and apply it (tests/integration/test_platform_render.py)."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import platform_applications

from harness import REPO

TEMPLATES = REPO / "roles/platform/templates"
# The platform role's defaults: a folder whose files Ansible reads in name order, the catalog one of them.
DEFAULTS = REPO / "roles/platform/defaults/main"
CATALOG = DEFAULTS / "catalog.yml"


def role_defaults(loader: DataLoader | None = None) -> dict:
    """The platform role's defaults, every file of the folder; through an Ansible loader (trusted as templates)
    when one is given, else as plain YAML."""
    defaults = {}
    for path in sorted(DEFAULTS.glob("*.yml")):
        defaults.update(loader.load_from_file(str(path), trusted_as_template=True) if loader
                        else yaml.safe_load(path.read_text()))
    return defaults


def catalog_entries() -> list:
    """The catalog as it is written (platform_apps_catalog), untemplated."""
    return yaml.safe_load(CATALOG.read_text())["platform_apps_catalog"]


def folder_documents(folder: Path) -> list:
    """Every YAML document of a folder's *.yaml files, in file order: how a manifest set is read."""
    return [doc for path in sorted(Path(folder).glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def rendered_platform(deployment_type: str, domain: str, release_sets: dict | None = None,
                      raw_chart: dict | None = None, chart_mirror: str | None = None, variables=None) -> dict:
    """{applications, argocd (argocd-config documents), vars (the templated role vars), defaults (templated on
    demand by the caller)}. `release_sets`: set name to its objects; None leaves out the apps deployed from them
    (the catalog patches objects of those sets, so they cannot be rendered empty)."""
    loader = DataLoader()
    defaults = role_defaults(loader)
    role_vars = loader.load_from_file(str(REPO / "roles/platform/vars/main.yml"), trusted_as_template=True)
    templar = Templar(loader=loader, variables={
        **defaults, **role_vars, "role_path": str(REPO / "roles/platform"), "aphex_domain": domain,
        "aphex_deployment_type": deployment_type, "aphex_kubeconfig": "/dev/null", **(variables or {})})

    def template(path: Path) -> list:
        text = templar.template(trust_as_template("{{ lookup('ansible.builtin.template', '%s') }}" % path))
        return [doc for doc in yaml.safe_load_all(text) if doc]

    manifest_sets = {}
    for name, source in templar.template(role_vars["platform_manifest_sources"]).items():
        if source.endswith(".j2"):
            manifest_sets[name] = template(TEMPLATES / source)
        else:
            manifest_sets[name] = folder_documents(Path(source))
    catalog = templar.template(defaults["platform_apps_catalog"])
    if release_sets is None:
        catalog = [entry for entry in catalog
                   if entry["source"].get("manifests") not in defaults["platform_release_manifests"]]
    else:
        manifest_sets.update({name: list(release_sets.get(name, [])) for name in defaults["platform_release_manifests"]})
    raw_chart = raw_chart or templar.template(defaults["platform_raw_chart"])
    applications = platform_applications(catalog, deployment_type,
                                         manifest_sets=manifest_sets, raw_chart=raw_chart, chart_mirror=chart_mirror)
    return {"applications": applications, "argocd": template(TEMPLATES / "argocd-config.yaml.j2"),
            "templar": templar, "defaults": defaults, "role_vars": role_vars}


_ROLE_PLATFORMS = {}


def role_platform(deployment_type: str, domain: str, raw_chart: dict) -> dict:
    """What the role deploys for the deployment type, rendered once per arguments: the child Applications (apps),
    ArgoCD's configuration (argocd), the generated secrets' settings (vars) and ArgoCD's admin groups."""
    key = (deployment_type, domain, json.dumps(raw_chart, sort_keys=True))
    if key not in _ROLE_PLATFORMS:
        rendered = rendered_platform(deployment_type, domain, raw_chart=raw_chart)
        templar, defaults, role_vars = rendered["templar"], rendered["defaults"], rendered["role_vars"]
        _ROLE_PLATFORMS[key] = {
            "apps": rendered["applications"], "argocd": rendered["argocd"],
            "vars": templar.template({name: role_vars[name] for name in ("platform_generated_secrets",)}),
            "admin_groups": templar.template(defaults["platform_argocd_admin_groups"])}
    return _ROLE_PLATFORMS[key]


# The variable each deployment type's cluster role configures kubectl's single sign-on with.
KUBECTL_SSO_VARIABLES = {"k3s": ("k3s", "k3s_oidc"), "kind": ("kind_cluster", "kind_cluster_oidc")}


def kubectl_sso_settings(deployment_type: str, domain: str) -> dict:
    """The deployment type's cluster role's default SSO settings for its kube-apiserver, templated for DOMAIN."""
    role, variable = KUBECTL_SSO_VARIABLES[deployment_type]
    loader = DataLoader()
    defaults = loader.load_from_file(str(REPO / "roles" / role / "defaults/main.yml"), trusted_as_template=True)
    return Templar(loader=loader, variables={**defaults, "aphex_domain": domain}).template(defaults[variable])
