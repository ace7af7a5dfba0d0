"""Single sign-on with the real Dex (issue 24, items 1 and 2): the platform's Dex - built from ../shared/upstream,
run with the configuration the collection renders into the dex chart, as the chart's ServiceAccount, its state in
the cluster - signs people in through an OIDC provider standing in for Authentik, configured from the rendered
blueprint (harness/platform/sso.py says what is real and what stands in). A browser's sign-in is followed redirect
by redirect on loopback; the ID token is redeemed as the kubernetes client would and its signature checked against
Dex's published keys."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from harness.platform.catalog import rendered_platform
from harness.platform.sso import SSO_NAMESPACE, SingleSignOn

DOMAIN = "aphex.test"
KUBECTL_CLIENT, KUBECTL_REDIRECT = "kubernetes", "http://localhost:8000"
DASHBOARD, DASHBOARD_NAMESPACE = f"https://tekton.{DOMAIN}/", "tekton-pipelines"
ORG_ADMIN = {"password": "alice-password", "email": "alice@acme.test", "groups": ["org-acme-admins"]}
NOBODY = {"password": "bob-password", "email": "bob@nowhere.test", "groups": []}


@pytest.fixture(scope="module", params=["kind", "k3s"])
def sso(request, tmp_path_factory):
    from harness.controlplane.cluster import ControlPlane, binaries
    from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
    from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import converge

    plane = ControlPlane(tmp_path_factory.mktemp(f"sso-{request.param}"), binaries())
    plane.up()
    try:
        rendered = rendered_platform(request.param, DOMAIN)
        # The platform's generated secrets, made by the collection's own code from the role's list of them.
        specs = rendered["templar"].template(rendered["role_vars"]["platform_generated_secrets"])
        converge(lambda: ClusterApi(str(plane.admin_kubeconfig)),
                 [s for s in specs if s["namespace"] in (SSO_NAMESPACE, DASHBOARD_NAMESPACE)], check_mode=False)
        single_sign_on = SingleSignOn(plane, rendered["applications"], DOMAIN)
        akadmin = {"password": "akadmin-password", "email": "akadmin@aphex.test",
                   "groups": single_sign_on.blueprint["users"]["akadmin"]}
        users = {"akadmin": akadmin, "alice": ORG_ADMIN, "bob": NOBODY}
        single_sign_on.up(users)
        yield single_sign_on, users
    finally:
        plane.down()


def secret(sso_, key: str) -> str:
    from harness.platform.sso import _secret_value

    return _secret_value(sso_.kubectl, SSO_NAMESPACE, "dex-secrets", key)


def signed_in_claims(sso_, username: str, password: str) -> dict:
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, username, password)
    assert signed["location"], signed
    query = parse_qs(urlsplit(signed["location"]).query)
    assert query["state"] == ["aphex-test"]
    status, tokens = sso_.redeem(query["code"][0], KUBECTL_CLIENT, secret(sso_, "kubernetes-client-secret"),
                                 KUBECTL_REDIRECT)
    assert status == 200, tokens
    return sso_.verified_claims(tokens["id_token"])


def test_the_blueprints_admin_signs_in_through_both_and_gets_the_blueprints_groups(sso):
    sso_, users = sso
    claims = signed_in_claims(sso_, "akadmin", users["akadmin"]["password"])
    assert claims["iss"] == f"https://dex.{DOMAIN}" and claims["aud"] == KUBECTL_CLIENT
    assert claims["email"] == "akadmin@aphex.test" and claims["email_verified"] is True
    # The blueprint's admin is in the admin groups ArgoCD's RBAC maps, platform-admins first.
    assert "platform-admins" in claims["groups"]
    assert sorted(claims["groups"]) == sorted(sso_.blueprint["users"]["akadmin"])


def test_the_browser_sees_public_addresses_only_and_dex_reaches_authentik_by_its_service(sso):
    sso_, users = sso
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, "alice", users["alice"]["password"])
    hosts = {urlsplit(step).netloc for step in signed["steps"]}
    assert hosts == {f"dex.{DOMAIN}", f"auth.{DOMAIN}"}, signed["steps"]
    assert any(step.startswith(f"https://auth.{DOMAIN}/application/o/authorize/?") for step in signed["steps"])
    # Discovery, the code's redemption and the keys went to the stand-in by Authentik's in-cluster name, through
    # the egress guard; nothing was refused (no other name, no address off loopback).
    routed = {entry["request"].split()[1] for entry in sso_.plane.egress_routed()}
    issuer = sso_.connector["issuer"]
    assert {f"{issuer}.well-known/openid-configuration", f"{issuer}token"} <= routed, routed
    assert sso_.plane.egress_attempts() == []


def test_an_organization_admin_gets_their_group_and_a_user_in_no_group_gets_none(sso):
    sso_, users = sso
    assert signed_in_claims(sso_, "alice", users["alice"]["password"])["groups"] == ["org-acme-admins"]
    claims = signed_in_claims(sso_, "bob", users["bob"]["password"])
    assert claims["email"] == "bob@nowhere.test" and not claims.get("groups")


def test_a_wrong_password_gets_no_code(sso):
    sso_, _users = sso
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, "alice", "not-her-password")
    assert signed["status"] == 401 and signed["location"] is None
    assert urlsplit(signed["steps"][-1]).netloc == f"auth.{DOMAIN}"


def test_a_code_is_redeemed_only_with_the_clients_secret_and_only_once(sso):
    sso_, users = sso
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, "alice", users["alice"]["password"])
    code = parse_qs(urlsplit(signed["location"]).query)["code"][0]
    status, answer = sso_.redeem(code, KUBECTL_CLIENT, "not-the-secret", KUBECTL_REDIRECT)
    assert status == 401 and answer.get("error") == "invalid_client", answer
    status, _tokens = sso_.redeem(code, KUBECTL_CLIENT, secret(sso_, "kubernetes-client-secret"), KUBECTL_REDIRECT)
    assert status == 200
    status, answer = sso_.redeem(code, KUBECTL_CLIENT, secret(sso_, "kubernetes-client-secret"), KUBECTL_REDIRECT)
    assert status == 400 and answer.get("error") == "invalid_grant", answer


def test_an_unregistered_redirect_uri_is_refused_by_dex(sso):
    sso_, users = sso
    signed = sso_.sign_in(KUBECTL_CLIENT, "http://localhost:9999/steal", "alice", users["alice"]["password"])
    assert signed["location"] is None and signed["status"] == 400
    assert "Unregistered redirect_uri" in signed["body"]


def test_dex_keeps_its_state_in_the_cluster_as_the_charts_service_account(sso):
    sso_, users = sso
    from harness.controlplane.audit import AuditLog

    signed_in_claims(sso_, "alice", users["alice"]["password"])

    writes = [event for event in AuditLog(sso_.plane.audit_log).writes() if "/apis/dex.coreos.com/" in event.uri]
    assert {event.resource for event in writes} >= {"authrequests", "authcodes"}, writes
    assert {event.user for event in writes} == {f"system:serviceaccount:{SSO_NAMESPACE}:dex"}
    assert {event.namespace for event in writes} == {SSO_NAMESPACE}


def test_an_anonymous_request_to_the_dashboard_is_sent_to_dex_whatever_headers_it_forges(sso):
    sso_, _users = sso
    opened = sso_.browse(DASHBOARD, "nobody", "nothing", stop_at=f"https://dex.{DOMAIN}/")
    query = parse_qs(urlsplit(opened["location"]).query)
    assert opened["location"].startswith(f"https://dex.{DOMAIN}/auth?") and opened["steps"] == [DASHBOARD]
    assert query["client_id"] == ["tekton-dashboard"] and query["redirect_uri"] == [f"{DASHBOARD}oauth2/callback"]
    import http.client

    local = urlsplit(sso_.urls["dashboard"])
    connection = http.client.HTTPConnection(local.hostname, local.port, timeout=10)
    connection.request("GET", "/", headers={"X-Forwarded-User": "akadmin", "X-Forwarded-Groups": "platform-admins",
                                            "X-Auth-Request-User": "akadmin"})
    answer = connection.getresponse()
    assert answer.status == 302 and answer.getheader("Location").startswith(f"https://dex.{DOMAIN}/auth?")
    assert b"stand-in" not in answer.read()


def test_a_platform_admin_reaches_the_dashboard_through_dex(sso):
    sso_, users = sso
    opened = sso_.browse(DASHBOARD, "akadmin", users["akadmin"]["password"])
    assert opened["status"] == 200 and opened["body"] == "Tekton Dashboard (stand-in)\n", opened
    hosts = [urlsplit(step).netloc for step in opened["steps"]]
    assert hosts[0] == hosts[-1] == f"tekton.{DOMAIN}" and f"auth.{DOMAIN}" in hosts
    routed = {entry["request"] for entry in sso_.plane.egress_routed()}
    assert any("http://dex.auth-system.svc:5556/token" in request for request in routed), routed
    assert sso_.plane.egress_attempts() == []


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_a_signed_in_user_outside_the_platform_groups_is_refused_the_dashboard(sso, username):
    sso_, users = sso
    opened = sso_.browse(DASHBOARD, username, users[username]["password"])
    assert opened["status"] == 403 and "stand-in" not in opened["body"], opened
    assert urlsplit(opened["steps"][-1]).path == "/oauth2/callback"
    # Refused for its groups, not for a lost CSRF cookie (also a 403 at the callback).
    log = sso_.plane.log_tail("oauth2-proxy", size=200_000)
    assert [line for line in log.splitlines() if users[username]["email"] in line
            and "[AuthFailure] Invalid authentication via OAuth2: unauthorized" in line], log[-2000:]
