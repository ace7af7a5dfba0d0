# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubectl with single sign-on: the kube-apiserver's structured authentication configuration (the file given with
--authentication-config) that accepts the platform Dex's ID tokens, and the kubeconfig an SSO user runs kubectl
with. The K3s and kind roles write the first (filter aphex.platform.kube_authentication_config); the platform
role writes the second; the test control plane is started with the first (harness/platform/sso.py)."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from ansible_collections.aphex.platform.plugins.module_utils.naming import SSO_PREFIX

AUTHENTICATION_API_VERSION = "apiserver.config.k8s.io/v1"
# Dex's static client that kubectl signs in as (roles/platform/defaults/main/catalog.yml): a public client, since a
# secret handed to every kubeconfig would be no secret (RFC 8252, 8.5).
KUBERNETES_CLIENT_ID = "kubernetes"
# kubelogin's default local ports for the browser's redirect, the redirect URIs Dex allows the client.
KUBELOGIN_REDIRECT_PORTS = (8000, 18000)
SETTINGS = ("issuer_url", "client_id", "certificate_authority", "egress_selector")


class SsoSettingsError(ValueError):
    """Settings for the kube-apiserver's SSO that cannot work, with the field named."""


def _checked(settings: dict, where: str) -> dict:
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SsoSettingsError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    issuer = settings.get("issuer_url")
    if not isinstance(issuer, str) or urlsplit(issuer).scheme != "https" or not urlsplit(issuer).hostname:
        raise SsoSettingsError(f"{where}.issuer_url: {issuer!r} is not an https:// URL (the kube-apiserver accepts "
                               "only an https issuer)")
    if urlsplit(issuer).query or urlsplit(issuer).fragment:
        raise SsoSettingsError(f"{where}.issuer_url: {issuer!r} has a query or fragment")
    client = settings.get("client_id", KUBERNETES_CLIENT_ID)
    if not isinstance(client, str) or not client:
        raise SsoSettingsError(f"{where}.client_id: must be a non-empty string")
    authority = settings.get("certificate_authority") or ""
    if authority and "-----BEGIN CERTIFICATE-----" not in authority:
        raise SsoSettingsError(f"{where}.certificate_authority: must be PEM certificates (the CA that signed the "
                               "issuer's serving certificate), not a path or a key")
    selector = settings.get("egress_selector") or ""
    if selector not in ("", "controlplane", "cluster"):
        raise SsoSettingsError(f"{where}.egress_selector: {selector!r} is none of controlplane, cluster")
    return {"issuer_url": issuer, "client_id": client, "certificate_authority": authority,
            "egress_selector": selector}


def authentication_configuration(settings: dict, where: str = "oidc") -> dict:
    """The AuthenticationConfiguration for SETTINGS {issuer_url, client_id (default kubernetes),
    certificate_authority (PEM; empty: the host's trust store), egress_selector (empty: dialled directly)}.

    A token is accepted when Dex signed it for the client, its email is verified, and it has not expired; the user
    is `oidc:<email>` and each group `oidc:<group>` (naming.SSO_PREFIX), which no ServiceAccount, node or system
    group can be. An empty SETTINGS gives a configuration with no JWT issuer (client certificates and
    ServiceAccount tokens only)."""
    if not settings:
        return {"apiVersion": AUTHENTICATION_API_VERSION, "kind": "AuthenticationConfiguration", "jwt": []}
    checked = _checked(settings, where)
    issuer = {"url": checked["issuer_url"], "audiences": [checked["client_id"]]}
    if checked["certificate_authority"]:
        issuer["certificateAuthority"] = checked["certificate_authority"]
    if checked["egress_selector"]:
        issuer["egressSelectorType"] = checked["egress_selector"]
    return {
        "apiVersion": AUTHENTICATION_API_VERSION,
        "kind": "AuthenticationConfiguration",
        "jwt": [{
            "issuer": issuer,
            # Dex sets email_verified from the upstream provider; a user whose address nobody verified could
            # otherwise claim an organization admin's address.
            "claimValidationRules": [{
                "expression": "has(claims.email_verified) && claims.email_verified == true",
                "message": "the ID token's email address is not verified",
            }],
            "claimMappings": {
                "username": {"claim": "email", "prefix": SSO_PREFIX},
                "groups": {"claim": "groups", "prefix": SSO_PREFIX},
            },
        }],
    }


def sso_kubeconfig_from(admin_kubeconfig: dict, settings: dict, context: str = "") -> dict:
    """sso_kubeconfig for the cluster of ADMIN_KUBECONFIG's CONTEXT (its current one when empty); none of its
    credentials is kept."""
    try:
        name = context or admin_kubeconfig["current-context"]
        [chosen] = [c["context"] for c in admin_kubeconfig["contexts"] if c["name"] == name]
        [cluster] = [c["cluster"] for c in admin_kubeconfig["clusters"] if c["name"] == chosen["cluster"]]
        if not cluster.get("server"):
            raise ValueError("its cluster has no server")
    except (KeyError, TypeError, ValueError) as error:
        raise SsoSettingsError(f"the administrator's kubeconfig has no usable context {context!r} ({error})") from None
    return sso_kubeconfig(chosen["cluster"], cluster, settings)


def sso_kubeconfig(cluster_name: str, cluster: dict, settings: dict) -> dict:
    """A kubeconfig for people signing in through the platform's Dex: CLUSTER (a kubeconfig's cluster entry: address,
    CA; no credential)
    and a user that runs kubelogin (`kubectl oidc-login`, https://github.com/int128/kubelogin) for an ID token, with
    the scopes the kube-apiserver's mapping reads (email, groups)."""
    checked = _checked(settings, "oidc")
    arguments = ["oidc-login", "get-token", f"--oidc-issuer-url={checked['issuer_url']}",
                 f"--oidc-client-id={checked['client_id']}", "--oidc-extra-scope=email",
                 "--oidc-extra-scope=groups", "--oidc-extra-scope=profile"]
    if checked["certificate_authority"]:
        encoded = base64.b64encode(checked["certificate_authority"].encode()).decode()
        arguments.append(f"--certificate-authority-data={encoded}")
    user = f"{cluster_name}-sso"
    return {
        "apiVersion": "v1", "kind": "Config",
        # A cluster entry holds no credential: its address and how to trust it (CA data or file, TLS name, proxy).
        "clusters": [{"name": cluster_name, "cluster": dict(cluster)}],
        "users": [{"name": user, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": "kubectl", "args": arguments,
            "interactiveMode": "IfAvailable", "provideClusterInfo": False}}}],
        "contexts": [{"name": user, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": user,
    }
