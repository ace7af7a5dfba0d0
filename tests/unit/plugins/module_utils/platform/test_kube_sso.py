"""The kube-apiserver's authentication configuration for the platform's single sign-on, and the kubeconfig for SSO
users (module_utils/platform/kube_sso.py). That the kube-apiserver accepts and refuses tokens as configured is
tests/integration/test_platform_sso.py's part."""
import base64

import pytest

from ansible_collections.aphex.platform.plugins.module_utils.platform.kube_sso import (
    SsoSettingsError, authentication_configuration, sso_kubeconfig_from)

ISSUER = "https://dex.example.com"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_dex_tokens_map_to_prefixed_users_and_groups_and_need_a_verified_email():
    configuration = authentication_configuration({"issuer_url": ISSUER, "client_id": "kubernetes"})
    assert configuration["apiVersion"] == "apiserver.config.k8s.io/v1"
    [jwt] = configuration["jwt"]
    assert jwt["issuer"] == {"url": ISSUER, "audiences": ["kubernetes"]}
    assert jwt["claimMappings"] == {"username": {"claim": "email", "prefix": "oidc:"},
                                    "groups": {"claim": "groups", "prefix": "oidc:"}}
    [rule] = jwt["claimValidationRules"]
    assert "claims.email_verified == true" in rule["expression"]


def test_the_client_defaults_to_kubernetes_and_the_ca_and_egress_selection_are_added_when_given():
    [jwt] = authentication_configuration({"issuer_url": ISSUER, "certificate_authority": CA,
                                          "egress_selector": "cluster"})["jwt"]
    assert jwt["issuer"] == {"url": ISSUER, "audiences": ["kubernetes"], "certificateAuthority": CA,
                             "egressSelectorType": "cluster"}


def test_no_settings_is_a_configuration_without_issuers():
    assert authentication_configuration({}) == {"apiVersion": "apiserver.config.k8s.io/v1",
                                                "kind": "AuthenticationConfiguration", "jwt": []}


@pytest.mark.parametrize("settings, message", [
    ({"issuer_url": "http://dex.example.com"}, "k3s_oidc.issuer_url: 'http://dex.example.com' is not an https://"),
    ({"client_id": "kubernetes"}, "k3s_oidc.issuer_url: None is not an https://"),
    ({"issuer_url": ISSUER + "?x=1"}, "k3s_oidc.issuer_url: .* has a query or fragment"),
    ({"issuer_url": ISSUER, "client_id": ""}, "k3s_oidc.client_id: must be a non-empty string"),
    ({"issuer_url": ISSUER, "certificate_authority": "/etc/ssl/ca.pem"}, "k3s_oidc.certificate_authority: must be PEM"),
    ({"issuer_url": ISSUER, "egress_selector": "anywhere"}, "k3s_oidc.egress_selector: 'anywhere' is none of"),
    ({"issuer_url": ISSUER, "username_claim": "email"}, r"k3s_oidc: unknown setting\(s\) username_claim; known:"),
])
def test_settings_that_cannot_work_are_named(settings, message):
    with pytest.raises(SsoSettingsError, match=message):
        authentication_configuration(settings, "k3s_oidc")


ADMIN = {"apiVersion": "v1", "kind": "Config", "current-context": "admin@aphex",
         "clusters": [{"name": "aphex", "cluster": {"server": "https://k3s.example.com:6443",
                                                    "certificate-authority-data": "Q0E="}},
                      {"name": "other", "cluster": {"server": "https://other:6443"}},
                      {"name": "local", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "/ca.crt",
                                                    "tls-server-name": "kubernetes"}}],
         "contexts": [{"name": "admin@aphex", "context": {"cluster": "aphex", "user": "admin"}},
                      {"name": "local", "context": {"cluster": "local", "user": "admin"}},
                      {"name": "other", "context": {"cluster": "other", "user": "admin"}}],
         "users": [{"name": "admin", "user": {"client-key-data": "S0VZ", "client-certificate-data": "Q0VSVA=="}}]}


def test_the_sso_kubeconfig_keeps_the_cluster_and_none_of_the_administrators_credentials():
    kubeconfig = sso_kubeconfig_from(ADMIN, {"issuer_url": ISSUER, "client_id": "kubernetes"})
    assert kubeconfig["clusters"] == [{"name": "aphex", "cluster": {"server": "https://k3s.example.com:6443",
                                                                    "certificate-authority-data": "Q0E="}}]
    [user] = kubeconfig["users"]
    assert "S0VZ" not in str(kubeconfig) and "Q0VSVA==" not in str(kubeconfig)
    assert user["user"]["exec"]["command"] == "kubectl"
    assert user["user"]["exec"]["args"][:4] == ["oidc-login", "get-token", f"--oidc-issuer-url={ISSUER}",
                                                "--oidc-client-id=kubernetes"]
    assert {"--oidc-extra-scope=email", "--oidc-extra-scope=groups"} <= set(user["user"]["exec"]["args"])
    assert not [a for a in user["user"]["exec"]["args"] if "secret" in a]
    assert kubeconfig["current-context"] == user["name"] == "aphex-sso"


def test_the_sso_kubeconfig_follows_the_context_asked_for_and_passes_the_issuers_ca_to_kubelogin():
    kubeconfig = sso_kubeconfig_from(ADMIN, {"issuer_url": ISSUER, "certificate_authority": CA}, "other")
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://other:6443"
    encoded = base64.b64encode(CA.encode()).decode()
    assert f"--certificate-authority-data={encoded}" in kubeconfig["users"][0]["user"]["exec"]["args"]


def test_a_ca_given_as_a_file_is_kept_as_the_administrators_kubeconfig_gives_it():
    kubeconfig = sso_kubeconfig_from(ADMIN, {"issuer_url": ISSUER}, "local")
    assert kubeconfig["clusters"] == [{"name": "local", "cluster": {
        "server": "https://127.0.0.1:6443", "certificate-authority": "/ca.crt", "tls-server-name": "kubernetes"}}]


def test_an_admin_kubeconfig_without_that_context_is_a_clear_error():
    with pytest.raises(SsoSettingsError, match="no usable context 'missing'"):
        sso_kubeconfig_from(ADMIN, {"issuer_url": ISSUER}, "missing")
