"""Single sign-on with the real Dex (issue 24, items 1 and 2): the platform's Dex - built from ../shared/upstream,
run with the configuration the collection renders into the dex chart, as the chart's ServiceAccount, its state in
the cluster - signs people in through an OIDC provider standing in for Authentik, configured from the rendered
blueprint (harness/platform/sso.py says what is real and what stands in). A browser's sign-in is followed redirect
by redirect on loopback; the ID token is redeemed as the kubernetes client would and its signature checked against
Dex's published keys."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from harness.kube import wait_for
from harness.platform.catalog import rendered_platform
from harness.platform.sso import ARGOCD_NAMESPACE, SSO_NAMESPACE, SingleSignOn

DOMAIN = "aphex.test"
KUBECTL_CLIENT, KUBECTL_REDIRECT = "kubernetes", "http://localhost:8000"
ARGOCD_CLIENT, ARGOCD_REDIRECT = "argocd", f"https://argocd.{DOMAIN}/auth/callback"
ORGANIZATION = "acme"
DASHBOARD, DASHBOARD_NAMESPACE = f"https://tekton.{DOMAIN}/", "tekton-pipelines"
ORG_ADMIN = {"password": "alice-password", "email": "alice@acme.test", "groups": ["org-acme-admins"]}
NOBODY = {"password": "bob-password", "email": "bob@nowhere.test", "groups": []}
OTHER_ORG_ADMIN = {"password": "dave-password", "email": "dave@bolt.test", "groups": []}
PLATFORM_ENGINEER = {"password": "erin-password", "email": "erin@aphex.test", "groups": ["platform-engineering"]}
# Two organizations' pipelines (acme's admin alice, bolt's dave), each with an Application, and one of the platform's.
PIPELINES = {"acme-web": ("acme", ORG_ADMIN["email"]), "bolt-site": ("bolt", OTHER_ORG_ADMIN["email"])}


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
                 [s for s in specs if s["namespace"] in (SSO_NAMESPACE, DASHBOARD_NAMESPACE, ARGOCD_NAMESPACE)],
                 check_mode=False)
        single_sign_on = SingleSignOn(plane, rendered["applications"], DOMAIN)
        akadmin = {"password": "akadmin-password", "email": "akadmin@aphex.test",
                   "groups": single_sign_on.blueprint["users"]["akadmin"]}
        users = {"akadmin": akadmin, "alice": ORG_ADMIN, "bob": NOBODY, "dave": OTHER_ORG_ADMIN,
                 "erin": PLATFORM_ENGINEER}
        single_sign_on.up(users)
        _grant_as_the_collection_does(plane, rendered["applications"])
        single_sign_on.enable_kubectl_sso(request.param)
        single_sign_on.start_argocd(rendered["argocd"], request.param)
        _tenants_in_argocd(plane)
        # The kube-apiserver takes the new configuration once it has read Dex's discovery and keys.
        token = id_token(single_sign_on, "akadmin", akadmin["password"])
        assert wait_for(lambda: whoami(plane, token)[0] == 201, timeout=120, interval=1), plane.log_tail("kube-apiserver")
        yield single_sign_on, users
    finally:
        plane.down()


def _grant_as_the_collection_does(plane, applications):
    """The RBAC the platform ships for SSO (auth-config's ClusterRoleBindings, the organization-admin ClusterRole) and
    an organization onboarded with alice as its admin (its namespace and her RoleBinding, as the collection renders
    them)."""
    from harness import REPO
    from harness.platform.catalog import folder_documents
    from harness.platform.render import Applier
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import (
        TenancySettings, render_organization)

    resources = applications["auth-config"]["source"]["helm"]["valuesObject"]["resources"]
    bindings = [r for r in resources if r["kind"] == "ClusterRoleBinding"]
    # the collection's platform-rbac app: the ClusterRoles (organization-admin, ...) and argocd-server's binding
    roles = [d for d in folder_documents(REPO / "files/rbac") if d["kind"] == "ClusterRole"
             or d["metadata"]["name"] == "aphex-argocd-server-applications"]
    organization = render_organization({"name": ORGANIZATION, "display_name": "Acme", "admin_users": [ORG_ADMIN["email"]]},
                                       [], "c2VjcmV0", TenancySettings())
    kept = [o for o in organization if o["kind"] in ("Namespace", "RoleBinding")
            and (o["kind"] == "Namespace" or o["roleRef"]["name"] == "organization-admin")]
    applier = Applier(plane.bin / "kubectl", plane.admin_kubeconfig)
    for name, documents in (("sso-rbac", bindings + roles), ("organization", kept)):
        errors = applier.apply(name, None, documents, create_namespace=False)
        assert not any(errors), errors


def _application(name: str, namespace: str, project: str) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name, "namespace": namespace},
            "spec": {"project": project, "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                     "source": {"repoURL": f"https://github.com/{project}/deploy", "path": ".", "targetRevision": "main"}}}


def _tenants_in_argocd(plane):
    """Each pipeline's namespace and AppProject as aphex.platform.pipeline renders them (the project's role naming
    the organization's admins), an Application in each, and platform-root in ArgoCD's namespace."""
    from harness.platform.render import Applier
    from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import TenancySettings, render_pipeline

    documents = []
    for name, (organization, admin) in PIPELINES.items():
        pipeline = {"name": name, "organization": organization, "repo": f"{organization}/{name}"}
        documents += [o for o in render_pipeline(pipeline, {"spec": {"tasks": []}}, "c2VjcmV0", TenancySettings(), [admin])
                      if o["kind"] in ("Namespace", "AppProject")]
    applier = Applier(plane.bin / "kubectl", plane.admin_kubeconfig)
    errors = applier.apply("tenants", None, documents, create_namespace=False)
    applications = [_application(name, name, name) for name in PIPELINES]
    applications.append(_application("platform-root", ARGOCD_NAMESPACE, "platform"))
    errors += applier.apply("applications", None, applications, create_namespace=False)
    assert not any(errors), errors


def _request(url: str, token: str, method: str, body=None, context=None) -> tuple:
    """(status, answer) of a JSON API at URL for a request with TOKEN as its bearer token."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        content = error.read()
        try:
            return error.code, json.loads(content or b"{}")
        except ValueError:
            return error.code, {"message": content.decode(errors="replace")}


def api(plane, token: str, method: str, path: str, body=None) -> tuple:
    """(status, answer) of the control plane's kube-apiserver."""
    import ssl

    return _request(plane.url + path, token, method, body, ssl.create_default_context(cafile=str(plane.pki.serving_ca)))


def whoami(plane, token: str) -> tuple:
    return api(plane, token, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
               {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})


def id_token(sso_, username: str, password: str) -> str:
    """An ID token from the platform's Dex for kubectl's client, as kubelogin gets it (a public client: no secret)."""
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, username, password)
    assert signed["location"], signed
    status, tokens = sso_.redeem(parse_qs(urlsplit(signed["location"]).query)["code"][0], KUBECTL_CLIENT, "",
                                 KUBECTL_REDIRECT)
    assert status == 200, tokens
    return tokens["id_token"]


def secret(sso_, key: str) -> str:
    from harness.platform.sso import _secret_value

    return _secret_value(sso_.kubectl, SSO_NAMESPACE, "dex-secrets", key)


def signed_in_claims(sso_, username: str, password: str) -> dict:
    signed = sso_.sign_in(KUBECTL_CLIENT, KUBECTL_REDIRECT, username, password)
    assert signed["location"], signed
    query = parse_qs(urlsplit(signed["location"]).query)
    assert query["state"] == ["aphex-test"]
    status, tokens = sso_.redeem(query["code"][0], KUBECTL_CLIENT, "", KUBECTL_REDIRECT)
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
    signed = sso_.sign_in(ARGOCD_CLIENT, ARGOCD_REDIRECT, "alice", users["alice"]["password"])
    code = parse_qs(urlsplit(signed["location"]).query)["code"][0]
    for wrong in ("not-the-secret", ""):
        status, answer = sso_.redeem(code, ARGOCD_CLIENT, wrong, ARGOCD_REDIRECT)
        assert status == 401 and answer.get("error") == "invalid_client", answer
    status, _tokens = sso_.redeem(code, ARGOCD_CLIENT, secret(sso_, "argocd-client-secret"), ARGOCD_REDIRECT)
    assert status == 200
    status, answer = sso_.redeem(code, ARGOCD_CLIENT, secret(sso_, "argocd-client-secret"), ARGOCD_REDIRECT)
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


# ---------------------------------------------------------------------------------------------- kubectl (item 4)
def test_kubectl_platform_admins_are_cluster_admins_under_prefixed_names(sso):
    sso_, users = sso
    token = id_token(sso_, "akadmin", users["akadmin"]["password"])
    status, review = whoami(sso_.plane, token)
    assert status == 201, review
    user = review["status"]["userInfo"]
    assert user["username"] == "oidc:akadmin@aphex.test"
    assert {"oidc:platform-admins", "system:authenticated"} <= set(user["groups"]), user
    assert not [g for g in user["groups"] if g.startswith("system:") and g != "system:authenticated"], user
    assert api(sso_.plane, token, "GET", "/api/v1/namespaces")[0] == 200
    assert api(sso_.plane, token, "GET", "/api/v1/namespaces/kube-system/secrets")[0] == 200


def test_kubectl_an_organization_admin_reaches_their_organization_only(sso):
    sso_, users = sso
    token = id_token(sso_, "alice", users["alice"]["password"])
    status, review = whoami(sso_.plane, token)
    assert status == 201 and review["status"]["userInfo"]["username"] == "oidc:alice@acme.test", review
    own = f"/api/v1/namespaces/org-{ORGANIZATION}"
    assert api(sso_.plane, token, "GET", f"{own}/configmaps")[0] == 200
    for elsewhere in ("/api/v1/namespaces", "/api/v1/namespaces/org-bolt/configmaps",
                      f"/api/v1/namespaces/{SSO_NAMESPACE}/secrets", "/api/v1/namespaces/kube-system/configmaps"):
        status, answer = api(sso_.plane, token, "GET", elsewhere)
        assert status == 403 and 'User "oidc:alice@acme.test" cannot' in answer["message"], (elsewhere, answer)
    status, answer = api(sso_.plane, token, "POST", f"{own}/configmaps",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}})
    assert status == 403, answer


def test_kubectl_a_signed_in_user_in_no_group_gets_nothing(sso):
    sso_, users = sso
    token = id_token(sso_, "bob", users["bob"]["password"])
    status, review = whoami(sso_.plane, token)
    assert status == 201 and review["status"]["userInfo"]["groups"] == ["system:authenticated"], review
    for path in ("/api/v1/namespaces", f"/api/v1/namespaces/org-{ORGANIZATION}/configmaps"):
        assert api(sso_.plane, token, "GET", path)[0] == 403


def _dex_signing_key(sso_):
    """Dex's private signing key, from its state in the cluster (the SigningKey object its storage keeps)."""
    keys = sso_.kubectl.get(f"{SSO_NAMESPACE}/signingkeies.dex.coreos.com/openid-connect-keys")
    return keys["signingKey"]


def _signed(claims: dict, jwk: dict | None) -> str:
    """A JWT of CLAIMS signed RS256 with the private JWK (a key of our own when None)."""
    import base64
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    def number(field: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(jwk[field] + "=" * (-len(jwk[field]) % 4)), "big")

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    if jwk is None:
        key, kid = rsa.generate_private_key(public_exponent=65537, key_size=2048), "foreign"
    else:
        public = rsa.RSAPublicNumbers(number("e"), number("n"))
        key = rsa.RSAPrivateNumbers(number("p"), number("q"), number("d"), number("dp"), number("dq"), number("qi"),
                                    public).private_key()
        kid = jwk["kid"]
    signing_input = f"{part({'alg': 'RS256', 'kid': kid, 'typ': 'JWT'})}.{part(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_kubectl_refuses_expired_foreign_unverified_and_other_clients_tokens(sso):
    import time

    sso_, _users = sso
    key, now = _dex_signing_key(sso_), int(time.time())
    good = {"iss": f"https://dex.{DOMAIN}", "sub": "c3R1Yg", "aud": KUBECTL_CLIENT, "iat": now, "exp": now + 600,
            "email": "akadmin@aphex.test", "email_verified": True, "groups": ["platform-admins"]}
    # The control: Dex's own key and good claims pass, so each refusal below is for the one claim it changes.
    status, review = whoami(sso_.plane, _signed(good, key))
    assert status == 201 and review["status"]["userInfo"]["username"] == "oidc:akadmin@aphex.test", review
    refused = {
        "expired": _signed({**good, "iat": now - 7200, "exp": now - 3600}, key),
        "foreign key": _signed(good, None),
        "foreign issuer": _signed({**good, "iss": sso_.authentik_issuer()}, key),
        "another client": _signed({**good, "aud": ARGOCD_CLIENT}, key),
        "unverified email": _signed({**good, "email_verified": False}, key),
        "system user": _signed({**good, "email": "system:admin"}, key),
    }
    for why, token in refused.items():
        status, answer = whoami(sso_.plane, token)
        if why == "system user":  # accepted, but only ever as oidc:system:admin, bound to nothing
            assert status == 201 and answer["status"]["userInfo"]["username"] == "oidc:system:admin", answer
            assert api(sso_.plane, _signed({**good, "email": "system:admin", "groups": []}, key), "GET",
                       "/api/v1/namespaces")[0] == 403
            continue
        assert status == 401, (why, answer)


def test_kubectl_sso_reaches_dex_only_through_the_guard(sso):
    sso_, _users = sso
    routed = {entry["request"] for entry in sso_.plane.egress_routed()}
    assert any(f"CONNECT dex.{DOMAIN}:443" in request for request in routed), routed
    assert sso_.plane.egress_attempts() == []


# ---------------------------------------------------------------------------------------------- ArgoCD (item 3)
def argocd_token(sso_, username: str, password: str) -> str:
    """Sign in to ArgoCD as a browser does (its /auth/login, Dex, the Authentik stand-in, back to ArgoCD's callback);
    the session token ArgoCD sets as its argocd.token cookie."""
    url = sso_.argocd_url()
    signed = sso_.browse(f"{url}/auth/login?return_url={url}/applications", username, password,
                         stop_at=f"{url}/applications")
    assert signed["location"] == f"{url}/applications", signed
    jar = signed["cookies"][url]
    assert "argocd.token" in jar, jar
    return jar["argocd.token"]


def argocd(sso_, token: str, method: str, path: str, body=None) -> tuple:
    """(status, answer) of argocd-server's API."""
    return _request(sso_.urls["argocd"] + path, token, method, body)


def sync(sso_, token: str, pipeline: str) -> tuple:
    """Ask argocd-server to sync pipeline PIPELINE's Application (a dry run of a commit: nothing to resolve)."""
    return argocd(sso_, token, "POST", f"/api/v1/applications/{pipeline}/sync",
                  {"appNamespace": pipeline, "revision": "0" * 40, "dryRun": True})


def visible_applications(sso_, token: str) -> set:
    status, answer = argocd(sso_, token, "GET", "/api/v1/applications")
    assert status == 200, answer
    return {(a["metadata"]["namespace"], a["metadata"]["name"]) for a in answer.get("items") or []}


EVERY_APPLICATION = {(name, name) for name in PIPELINES} | {(ARGOCD_NAMESPACE, "platform-root")}


def sync_started_by(sso_, name: str) -> str:
    """Who the sync operation ArgoCD wrote on pipeline NAME's Application was started by; the operation is then
    taken off again (no application controller runs here to carry it out)."""
    import subprocess

    application = sso_.kubectl.get(f"{name}/applications.argoproj.io/{name}")
    subprocess.run([*sso_.kubectl.argv, "-n", name, "patch", "applications.argoproj.io", name, "--type=merge",
                    "-p", '{"operation": null}'], check=True, capture_output=True)
    return ((application.get("operation") or {}).get("initiatedBy") or {}).get("username", "")


def test_argocd_signs_people_in_through_dex_and_authentik(sso):
    sso_, users = sso
    token = argocd_token(sso_, "akadmin", users["akadmin"]["password"])
    status, info = argocd(sso_, token, "GET", "/api/v1/session/userinfo")
    assert status == 200 and info["loggedIn"] is True, info
    assert info["iss"] == f"https://dex.{DOMAIN}" and "platform-admins" in info["groups"], info
    # argocd-server reached Dex by its public name through the guard, and nothing else off loopback.
    routed = {entry["request"] for entry in sso_.plane.egress_routed()}
    assert any(f"CONNECT dex.{DOMAIN}:443" in request for request in routed), routed
    assert sso_.plane.egress_attempts() == []


def test_argocd_platform_admins_see_and_sync_every_application(sso):
    sso_, users = sso
    token = argocd_token(sso_, "akadmin", users["akadmin"]["password"])
    assert visible_applications(sso_, token) == EVERY_APPLICATION
    status, answer = sync(sso_, token, "bolt-site")
    assert status == 200, answer
    assert sync_started_by(sso_, "bolt-site") == "akadmin@aphex.test"


def test_argocd_a_platform_engineer_sees_everything_and_syncs_nothing(sso):
    sso_, users = sso
    token = argocd_token(sso_, "erin", users["erin"]["password"])
    assert visible_applications(sso_, token) == EVERY_APPLICATION
    status, answer = sync(sso_, token, "acme-web")
    assert status == 403 and "permission denied: applications, sync, acme-web/acme-web/acme-web" in answer["message"], answer


def test_argocd_an_organization_admin_sees_and_syncs_their_organizations_applications_only(sso):
    sso_, users = sso
    token = argocd_token(sso_, "alice", users["alice"]["password"])
    assert visible_applications(sso_, token) == {("acme-web", "acme-web")}
    status, answer = sync(sso_, token, "acme-web")
    assert status == 200, answer
    assert sync_started_by(sso_, "acme-web") == ORG_ADMIN["email"]
    status, answer = sync(sso_, token, "bolt-site")
    assert status == 403 and "permission denied" in answer["message"], answer
    assert argocd(sso_, token, "GET", "/api/v1/applications/platform-root?appNamespace=argocd")[0] == 403
    # and the other organization's admin, the other way round
    other = argocd_token(sso_, "dave", users["dave"]["password"])
    assert visible_applications(sso_, other) == {("bolt-site", "bolt-site")}


def test_argocd_a_signed_in_user_in_no_group_gets_nothing(sso):
    sso_, users = sso
    token = argocd_token(sso_, "bob", users["bob"]["password"])
    assert visible_applications(sso_, token) == set()
    status, answer = sync(sso_, token, "acme-web")
    assert status == 403, answer


# ---------------------------------------------------------------------------------------------- secrets (item 6)
def _process_environment(plane, name: str) -> dict:
    """The environment the running component NAME was started with, read from the kernel (/proc/PID/environ)."""
    from pathlib import Path

    # the one that runs (Dex is started again when its first start exits, as the kubelet would)
    [component] = [c for c in plane.recorded_state()["components"]
                   if c["name"] == name and Path(f"/proc/{c['pid']}/environ").exists()]
    raw = Path(f"/proc/{component['pid']}/environ").read_bytes().decode()
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def test_sso_secrets_are_one_value_per_client_across_the_running_processes_and_never_logged(sso):
    from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
    from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import converge
    from harness.platform.sso import _secret_value

    sso_, _users = sso
    plane = sso_.plane
    dex, proxy = _process_environment(plane, "dex"), _process_environment(plane, "oauth2-proxy")
    authentik = _process_environment(plane, "authentik-stand-in")
    # Each client's secret is the one value on both ends, in the processes that use them.
    assert dex["TEKTON_CLIENT_SECRET"] == proxy["OAUTH2_PROXY_CLIENT_SECRET"]
    assert dex["AUTHENTIK_CLIENT_SECRET"] == authentik["CLIENT_SECRET"]
    # argocd-server reads its copy from argocd-secret when a code is redeemed (the sign-ins above succeed with it).
    assert _secret_value(sso_.kubectl, ARGOCD_NAMESPACE, "argocd-secret", "oidc.dex.clientSecret") == \
        dex["ARGOCD_CLIENT_SECRET"]
    cookie_secret = _secret_value(sso_.kubectl, DASHBOARD_NAMESPACE, "tekton-dashboard-oidc", "cookie-secret")
    assert proxy["OAUTH2_PROXY_COOKIE_SECRET"] == cookie_secret
    values = {dex[k] for k in ("TEKTON_CLIENT_SECRET", "ARGOCD_CLIENT_SECRET", "AUTHENTIK_CLIENT_SECRET")}
    values.add(proxy["OAUTH2_PROXY_COOKIE_SECRET"])
    assert len(values) == 4 and all(len(v) >= 32 for v in values)
    # A re-run of the collection's secret code (as bootstrap re-runs it) changes none of them.
    rendered = rendered_platform("kind", DOMAIN)
    specs = rendered["templar"].template(rendered["role_vars"]["platform_generated_secrets"])
    again = converge(lambda: ClusterApi(str(plane.admin_kubeconfig)),
                     [s for s in specs if s["namespace"] in (SSO_NAMESPACE, DASHBOARD_NAMESPACE, ARGOCD_NAMESPACE)],
                     check_mode=False)
    assert again["changed"] is False, again
    assert _secret_value(sso_.kubectl, SSO_NAMESPACE, "dex-secrets", "tekton-client-secret") == dex["TEKTON_CLIENT_SECRET"]
    # No process printed one (their logs, at the levels the charts run them).
    for name in ("dex", "oauth2-proxy", "argocd-server", "authentik-stand-in", "authentik-front", "kube-apiserver"):
        log = plane.log_tail(name, size=50_000_000)
        assert log and not [value for value in values if value in log], name
