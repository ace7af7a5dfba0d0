"""SSO as the platform renders it, for each deployment type: Authentik (blueprint) -> Dex (connector, static clients)
-> ArgoCD (argocd-cm, argocd-rbac-cm) and oauth2-proxy in front of the Tekton dashboard.

Everything is rendered through the code the role uses: the role's defaults and vars templated by Ansible's Templar,
the manifest templates through the `ansible.builtin.template` lookup, the catalog through platform_applications.
The checks are about what each client dials from inside the cluster (a Service of the platform, or a public name
only where that resolves and is trusted there), which CA it trusts, that redirect URIs agree pairwise, and that
the groups claim reaches ArgoCD's RBAC with the bootstrap administrator in the admin group."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from harness.platform.catalog import role_platform

DOMAIN = "sso.example"
RAW = {"repo": "https://charts.example/raw", "chart": "raw", "version": "2.0.2"}
TYPES = ("kind", "k3s")
# The username Authentik's bootstrap blueprint (blueprints/system/bootstrap.yaml) gives the administrator whose
# password is AUTHENTIK_BOOTSTRAP_PASSWORD and who owns AUTHENTIK_BOOTSTRAP_TOKEN.
BOOTSTRAP_ADMIN = "akadmin"
# The Services the pinned charts create, from their templates: authentik 2025.10.2 (`<fullname>-server`, ports
# 80 and 443), dex 0.24.0 (`<fullname>`, 5556 http) and oauth2-proxy 7.18.0 (`<fullname>`, 80). The fullname is
# the release (the app's name) when it contains the chart's name, else `<release>-<chart>`.
CHART_SERVICES = {"authentik": ("{}-server", {"http": 80}), "dex": ("{}", {"http": 5556}),
                  "oauth2-proxy": ("{}", {"http": 80})}


class Tag:
    """An Authentik blueprint tag (!Find, !KeyOf, !Env, ...) and its argument."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __eq__(self, other):
        return isinstance(other, Tag) and (self.name, self.value) == (other.name, other.value)

    def __repr__(self):
        return f"{self.name} {self.value!r}"


class BlueprintLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return Tag("!" + suffix, value)


BlueprintLoader.add_multi_constructor("!", _tag)


def values(deployment_type: str, app: str) -> dict:
    return role_platform(deployment_type, DOMAIN, RAW)["apps"][app]["source"]["helm"]["valuesObject"]


def objects(deployment_type: str, app: str) -> list:
    return values(deployment_type, app)["resources"]


def find(docs: list, kind: str, name: str) -> dict:
    matches = [doc for doc in docs if doc.get("kind") == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def services(deployment_type: str) -> dict:
    """`<service>.<namespace>.svc` -> ports, for every Service the deployed charts create that SSO may use."""
    found = {}
    for name, app in role_platform(deployment_type, DOMAIN, RAW)["apps"].items():
        chart = app["source"].get("chart")
        if chart not in CHART_SERVICES:
            continue
        pattern, ports = CHART_SERVICES[chart]
        fullname = name if chart in name else f"{name}-{chart}"
        found[f"{pattern.format(fullname)}.{app['destination']['namespace']}.svc"] = ports
    return found


def in_cluster(deployment_type: str, url: str) -> bool:
    """The URL names a Service of the platform, on a port the Service has, in the scheme of that port."""
    parts = urlsplit(url)
    ports = services(deployment_type).get(parts.hostname)
    return ports is not None and parts.scheme in ports and (parts.port or 80) == ports[parts.scheme]


def routes(deployment_type: str) -> dict:
    """Public host -> `<service>.<namespace>.svc:<port>` behind it (Ingresses on kind, HTTPRoutes on k3s)."""
    found = {}
    for doc in objects(deployment_type, "ingress-routes"):
        namespace = doc["metadata"]["namespace"]
        if doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                backend = rule["http"]["paths"][0]["backend"]["service"]
                found[rule["host"]] = f"{backend['name']}.{namespace}.svc:{backend['port']['number']}"
        elif doc["kind"] == "HTTPRoute":
            backend = doc["spec"]["rules"][0]["backendRefs"][0]
            for host in doc["spec"]["hostnames"]:
                found[host] = f"{backend['name']}.{namespace}.svc:{backend['port']}"
    return found


def blueprint(deployment_type: str) -> list:
    configmap = find(objects(deployment_type, "auth-config"), "ConfigMap", "authentik-blueprint-dex")
    return yaml.load(configmap["data"]["dex.yaml"], Loader=BlueprintLoader)["entries"]


def entry(entries: list, model: str, **identifiers) -> dict:
    matches = [e for e in entries if e["model"] == model
               and all(e.get("identifiers", {}).get(k) == v for k, v in identifiers.items())]
    assert len(matches) == 1, f"{model} {identifiers}: {len(matches)} blueprint entries"
    return matches[0]


def dex_provider(deployment_type: str) -> dict:
    """The blueprint's OAuth2 provider whose client id Dex's connector signs in with."""
    client_id = dex_connector(deployment_type)["clientID"]
    matches = [e for e in blueprint(deployment_type) if e["model"] == "authentik_providers_oauth2.oauth2provider"
               and e["attrs"].get("client_id") == client_id]
    assert len(matches) == 1, f"{len(matches)} Authentik providers with client_id {client_id}"
    return matches[0]


def dex_connector(deployment_type: str) -> dict:
    [connector] = [c for c in values(deployment_type, "dex")["config"]["connectors"] if c["id"] == "authentik"]
    assert connector["type"] == "oidc"
    return connector["config"]


def sync_job_env(deployment_type: str) -> dict:
    job = find(objects(deployment_type, "auth-config-sync"), "Job", "auth-config-sync")
    return {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


def argocd_oidc(deployment_type: str) -> dict:
    return yaml.safe_load(find(role_platform(deployment_type, DOMAIN, RAW)["argocd"], "ConfigMap", "argocd-cm")["data"]["oidc.config"])


def oauth2_proxy_args(deployment_type: str) -> dict:
    return values(deployment_type, "tekton-dashboard-auth")["extraArgs"]


@pytest.mark.parametrize("deployment_type", TYPES)
def test_dex_calls_authentik_through_its_service(deployment_type):
    """Issue 11 item 5: Dex's connector dialled https://auth.<domain>, a name that does not resolve inside a kind
    cluster, behind a certificate of the private platform CA Dex did not trust; and on either type the route (wave
    30) and certificate (wave 20) of that name only exist after Dex's own wave, while Dex exits when discovery
    fails. Dex must dial Authentik's Service (plain HTTP inside the cluster), or trust the CA of an https one."""
    connector = dex_connector(deployment_type)
    issuer = urlsplit(connector["issuer"])
    assert in_cluster(deployment_type, connector["issuer"]), (connector["issuer"], services(deployment_type))
    assert issuer.hostname.startswith("auth-authentik-server.")
    assert not connector.get("insecureSkipVerify")
    if issuer.scheme == "https":
        assert connector.get("rootCAs"), "an https issuer inside the cluster needs the CA that signs it"


@pytest.mark.parametrize("deployment_type", TYPES)
def test_the_authentik_issuer_dex_expects_is_the_one_authentik_publishes_at_that_address(deployment_type):
    """Issue 11 item 5: Authentik derives a provider's issuer from the address it is called at
    (`<scheme>://<host>/application/o/<application slug>/`, issuer_mode per_provider), and Dex requires discovery's
    issuer to equal its configured one. Swapping only the URL would break; the slug, the mode and the job that
    checks the issuer must agree with the address Dex dials."""
    connector, provider = dex_connector(deployment_type), dex_provider(deployment_type)
    assert provider["attrs"].get("issuer_mode", "per_provider") == "per_provider"
    [application] = [e for e in blueprint(deployment_type) if e["model"] == "authentik_core.application"
                     and e["attrs"]["provider"] == Tag("!KeyOf", provider["id"])]
    issuer = urlsplit(connector["issuer"])
    assert connector["issuer"] == f"{issuer.scheme}://{issuer.netloc}/application/o/{application['attrs']['slug']}/"
    env = sync_job_env(deployment_type)
    assert env["AUTHENTIK_ISSUER"] == connector["issuer"]
    assert urlsplit(env["AUTHENTIK_URL"])[:2] == issuer[:2]


@pytest.mark.parametrize("deployment_type", TYPES)
def test_only_the_browser_uses_authentiks_public_address(deployment_type):
    """Issue 11 item 5: discovery through the Service also names the Service in authorization_endpoint, which a
    browser cannot open. Dex overrides just that endpoint with Authentik's public, routed address; tokens and keys
    keep coming from the Service."""
    overrides = dex_connector(deployment_type).get("providerDiscoveryOverrides") or {}
    auth_url = urlsplit(overrides.get("authURL", ""))
    expected = ("https", f"auth.{DOMAIN}", "/application/o/authorize/")
    assert (auth_url.scheme, auth_url.hostname, auth_url.path) == expected
    assert routes(deployment_type)[f"auth.{DOMAIN}"] == "auth-authentik-server.auth-system.svc:80"
    assert all(in_cluster(deployment_type, overrides[key]) for key in ("tokenURL", "jwksURL") if key in overrides)


@pytest.mark.parametrize("deployment_type", TYPES)
def test_authentik_signs_id_tokens_with_a_key_dex_can_verify(deployment_type):
    """Issue 11 item 5: a provider without a signing key signs ID tokens with HS256 and the client secret; Dex
    verifies against the JWKS endpoint (asymmetric algorithms only) and rejected every login."""
    key = dex_provider(deployment_type)["attrs"].get("signing_key")
    assert key == Tag("!Find", ["authentik_crypto.certificatekeypair", ["name", "authentik Self-signed Certificate"]])


@pytest.mark.parametrize("deployment_type", TYPES)
def test_authentik_sends_a_verified_email_which_the_kube_apiserver_requires(deployment_type):
    """Review of issue 24 item 4: Authentik 2025.10's default email mapping sends email_verified false, and the
    kube-apiserver refuses a token without a verified email - every real person would have been refused. The
    provider maps the email scope with the blueprint's own mapping instead of Authentik's default."""
    entries = blueprint(deployment_type)
    mappings = {e["id"]: e for e in entries if e["model"] == "authentik_providers_oauth2.scopemapping" and "id" in e}
    used = dex_provider(deployment_type)["attrs"]["property_mappings"]
    assert Tag("!Find", ["authentik_providers_oauth2.scopemapping", ["scope_name", "email"]]) not in used
    [email] = [mappings[m.value] for m in used if m.name == "!KeyOf" and mappings[m.value]["attrs"]["scope_name"] == "email"]
    assert re.search(r'"email_verified":\s*True', email["attrs"]["expression"]), email


@pytest.mark.parametrize("deployment_type", TYPES)
def test_oauth2_proxy_reaches_dex_inside_the_cluster(deployment_type):
    """Issue 11 item 5: oauth2-proxy discovered Dex at https://dex.<domain> when it started (wave 18, before the
    routes and certificates): unresolvable and untrusted on kind, and on both types a crash loop that holds its
    wave. It redeems codes and reads keys through Dex's Service; only the browser goes to Dex's public address, and
    tokens are still checked against Dex's issuer."""
    args, dex_issuer = oauth2_proxy_args(deployment_type), values(deployment_type, "dex")["config"]["issuer"]
    assert args["skip-oidc-discovery"] == "true"
    assert args["oidc-issuer-url"] == dex_issuer
    assert in_cluster(deployment_type, args["redeem-url"]) and args["redeem-url"].endswith(":5556/token")
    assert in_cluster(deployment_type, args["oidc-jwks-url"]) and args["oidc-jwks-url"].endswith(":5556/keys")
    assert args["login-url"] == f"{dex_issuer}/auth"
    assert routes(deployment_type)[urlsplit(dex_issuer).hostname] == "dex.auth-system.svc:5556"


@pytest.mark.parametrize("deployment_type", TYPES)
def test_the_dashboard_lets_in_the_platforms_groups_only_and_sends_anonymous_users_to_dex(deployment_type):
    """Issue 24 item 5: any signed-in user got the dashboard, which shows every tenant's runs; and an anonymous
    request got a page with one sign-in button. The blueprint's groups that ArgoCD maps are the allowed ones."""
    args = oauth2_proxy_args(deployment_type)
    groups = {e["identifiers"]["name"] for e in blueprint(deployment_type) if e["model"] == "authentik_core.group"}
    assert args["allowed-group"].split(",") == ["platform-admins", "platform-engineering"]
    assert set(args["allowed-group"].split(",")) <= groups
    assert args["skip-provider-button"] == "true"
    # Dex's skipApprovalScreen holds only when the client does not force the approval prompt.
    assert args["approval-prompt"] == "auto" and values(deployment_type, "dex")["config"]["oauth2"]["skipApprovalScreen"]


@pytest.mark.parametrize("deployment_type", TYPES)
def test_argocd_trusts_the_certificate_of_the_dex_it_dials(deployment_type):
    """Issue 11 item 5: ArgoCD has no discovery override, so argocd-server dials Dex's public issuer. On k3s that
    name is published by external-dns and served with the Let's Encrypt wildcard certificate (trusted by the image);
    on kind the certificate comes from the private platform CA, which argocd-server must be given as rootCA."""
    oidc = argocd_oidc(deployment_type)
    dex_issuer = values(deployment_type, "dex")["config"]["issuer"]
    assert oidc["issuer"] == dex_issuer
    dex_host = urlsplit(dex_issuer).hostname
    certificates = objects(deployment_type, "certificates")
    if deployment_type == "k3s":
        assert "rootCA" not in oidc
        wildcard = find(certificates, "Certificate", "wildcard")
        assert f"*.{DOMAIN}" in wildcard["spec"]["dnsNames"]
        assert wildcard["spec"]["issuerRef"]["name"] == "letsencrypt-prod"
        assert "gateway-httproute" in values(deployment_type, "external-dns")["sources"]
        return
    ingress = find(objects(deployment_type, "ingress-routes"), "Ingress", "dex")
    assert ingress["spec"]["rules"][0]["host"] == dex_host
    issuer = ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    match = re.fullmatch(r"\$([a-z0-9-]+):ca\.crt", oidc.get("rootCA", ""))
    assert match, "argocd-cm's oidc.config needs rootCA on kind"
    [certificate] = [c for c in certificates if c["kind"] == "Certificate"
                     and c["spec"]["secretName"] == match.group(1)]
    assert certificate["metadata"]["namespace"] == "argocd"
    assert certificate["spec"]["secretTemplate"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert certificate["spec"]["issuerRef"] == {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}


@pytest.mark.parametrize("deployment_type", TYPES)
def test_redirect_uris_match_pairwise(deployment_type):
    """Issue 11 item 5: each hop's redirect URI must be the one its provider allows: Authentik's provider for Dex
    and Dex's connector (Dex's <issuer>/callback), Dex's static clients and ArgoCD (<url>/auth/callback) and
    oauth2-proxy (client id from tekton-dashboard-oidc)."""
    dex = values(deployment_type, "dex")["config"]
    connector, provider = dex_connector(deployment_type), dex_provider(deployment_type)
    assert connector["redirectURI"] == f"{dex['issuer']}/callback"
    assert provider["attrs"]["redirect_uris"] == [{"matching_mode": "strict", "url": connector["redirectURI"]}]
    assert provider["attrs"]["client_id"] == connector["clientID"]

    clients = {client["id"]: client for client in dex["staticClients"]}
    argocd_cm = find(role_platform(deployment_type, DOMAIN, RAW)["argocd"], "ConfigMap", "argocd-cm")["data"]
    oidc = argocd_oidc(deployment_type)
    assert clients[oidc["clientID"]]["redirectURIs"] == [f"{argocd_cm['url']}/auth/callback"]
    assert routes(deployment_type)[urlsplit(argocd_cm["url"]).hostname] == "argocd-server.argocd.svc:80"

    args = oauth2_proxy_args(deployment_type)
    [oidc_secret] = [s for s in role_platform(deployment_type, DOMAIN, RAW)["vars"]["platform_generated_secrets"]
                     if s["name"] == values(deployment_type, "tekton-dashboard-auth")["config"]["existingSecret"]]
    client_id = oidc_secret["keys"]["client-id"]["value"]
    assert clients[client_id]["redirectURIs"] == [args["redirect-url"]]
    assert routes(deployment_type)[urlsplit(args["redirect-url"]).hostname] == \
        "tekton-dashboard-auth-oauth2-proxy.tekton-pipelines.svc:80"


@pytest.mark.parametrize("deployment_type", TYPES)
def test_groups_flow_from_authentik_through_dex_to_argocd_rbac(deployment_type):
    """Issue 11 item 5: Dex asked for a groups scope no mapping of the provider served (Authentik drops such
    scopes); the provider must map the scope Dex requests to a groups claim, Dex must pass it on, ArgoCD must ask
    for it and map platform-admins to role:admin."""
    entries, connector = blueprint(deployment_type), dex_connector(deployment_type)
    mappings = {e["id"]: e for e in entries if e["model"] == "authentik_providers_oauth2.scopemapping"}
    served = {mappings[m.value]["attrs"]["scope_name"]: mappings[m.value]["attrs"]["expression"]
              for m in dex_provider(deployment_type)["attrs"]["property_mappings"] if m.name == "!KeyOf"}
    groups_key = (connector.get("claimMapping") or {}).get("groups", "groups")
    assert "groups" in connector["scopes"] and connector["insecureEnableGroups"] is True
    assert re.search(rf"""["']{groups_key}["']\s*:""", served.get("groups", "")), served
    assert "openid" not in connector["scopes"], "Dex always asks for openid itself"

    oidc = argocd_oidc(deployment_type)
    assert "groups" in oidc["requestedScopes"]
    assert "groups" in oauth2_proxy_args(deployment_type)["scope"].split()
    rbac = find(role_platform(deployment_type, DOMAIN, RAW)["argocd"], "ConfigMap", "argocd-rbac-cm")["data"]
    assert yaml.safe_load(rbac["scopes"])[0] == "groups"
    policy = [line.strip() for line in rbac["policy.csv"].splitlines() if line.strip()]
    assert "g, platform-admins, role:admin" in policy
    groups = {e["identifiers"]["name"] for e in entries if e["model"] == "authentik_core.group"}
    assert {line.split(", ")[1] for line in policy if line.startswith("g, ")} <= groups


@pytest.mark.parametrize("deployment_type", TYPES)
def test_bootstrap_admin_is_a_platform_admin(deployment_type):
    """Issue 11 item 5: the bootstrapped administrator (akadmin) was in no platform group, so its SSO login was
    read-only in ArgoCD. The blueprint puts it in platform-admins (keeping authentik Admins) without ever creating
    it before Authentik's bootstrap does, and auth-config-sync adds it should the blueprints run the other way
    round."""
    entries = blueprint(deployment_type)
    assert role_platform(deployment_type, DOMAIN, RAW)["admin_groups"] == ["platform-admins"]
    admins = entry(entries, "authentik_core.group", name="platform-admins")
    assert admins["attrs"]["is_superuser"] is True
    user = entry(entries, "authentik_core.user", username=BOOTSTRAP_ADMIN)
    assert user.get("state", "present") == "present"
    assert Tag("!Find", ["authentik_core.user", ["username", BOOTSTRAP_ADMIN]]) in user["conditions"]
    assert user["attrs"]["groups"] == [Tag("!Find", ["authentik_core.group", ["name", "authentik Admins"]]),
                                       Tag("!KeyOf", admins["id"])]
    assert set(user["attrs"]) == {"groups"}, "only its groups are the platform's business"
    assert sync_job_env(deployment_type)["PLATFORM_ADMIN_GROUP"] == "platform-admins"


@pytest.mark.parametrize("deployment_type", TYPES)
def test_kubectl_signs_in_as_a_public_client_on_the_local_redirects_only(deployment_type):
    """Issue 24 item 4: kubelogin's client had a generated secret, which every SSO kubeconfig would have carried."""
    dex = values(deployment_type, "dex")
    clients = {client["id"]: client for client in dex["config"]["staticClients"]}
    kubernetes = clients["kubernetes"]
    assert kubernetes["public"] is True and "secretEnv" not in kubernetes and "secret" not in kubernetes
    assert kubernetes["redirectURIs"] == ["http://localhost:8000", "http://localhost:18000"]
    assert all(not client.get("public") for name, client in clients.items() if name != "kubernetes")
    assert "KUBERNETES_CLIENT_SECRET" not in {variable["name"] for variable in dex["envVars"]}


@pytest.mark.parametrize("deployment_type", TYPES)
def test_sso_groups_get_cluster_roles_under_the_kube_apiservers_prefix(deployment_type):
    """Issue 24 item 4: no cluster role was bound to any SSO group."""
    bindings = {o["metadata"]["name"]: o for o in objects(deployment_type, "auth-config")
                if o["kind"] == "ClusterRoleBinding"}
    assert set(bindings) == {"aphex-sso-cluster-admin", "aphex-sso-view"}
    admin, view = bindings["aphex-sso-cluster-admin"], bindings["aphex-sso-view"]
    assert admin["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}
    assert [s["name"] for s in admin["subjects"]] == ["oidc:platform-admins"]
    assert view["roleRef"]["name"] == "view" and [s["name"] for s in view["subjects"]] == ["oidc:platform-engineering"]
    assert {s["kind"] for b in bindings.values() for s in b["subjects"]} == {"Group"}


@pytest.mark.parametrize("deployment_type", TYPES)
def test_the_cluster_roles_kube_apiserver_trusts_the_platforms_dex(deployment_type):
    """The kube-apiserver's issuer (k3s_oidc, kind_cluster_oidc) and the kubeconfig's (platform_kubectl_sso) are
    each role's own default: all three must be Dex's issuer and kubectl's client."""
    from harness.platform.catalog import kubectl_sso_settings, rendered_platform

    dex = values(deployment_type, "dex")["config"]
    rendered = rendered_platform(deployment_type, DOMAIN, raw_chart=RAW)
    kubeconfig_side = rendered["templar"].template(rendered["defaults"]["platform_kubectl_sso"])
    for settings in (kubectl_sso_settings(deployment_type, DOMAIN), kubeconfig_side):
        assert settings == {"issuer_url": dex["issuer"], "client_id": "kubernetes"}


@pytest.mark.parametrize("kubeconfig, expected", [
    ("/home/op/.kube/aphex-k3s.kubeconfig", "/home/op/.kube/aphex-k3s-sso.kubeconfig"),
    ("/work/.cluster/admin.kubeconfig", "/work/.cluster/admin-sso.kubeconfig"),
    ("/etc/aphex/config.yaml", "/etc/aphex/config-sso.kubeconfig"),
    ("/etc/aphex/kubeconfig", "/etc/aphex/kubeconfig-sso.kubeconfig"),
])
def test_the_sso_kubeconfig_goes_next_to_the_administrators(kubeconfig, expected):
    from harness.platform.catalog import rendered_platform

    rendered = rendered_platform("k3s", DOMAIN, raw_chart=RAW, variables={"aphex_kubeconfig": kubeconfig})
    assert rendered["templar"].template(rendered["defaults"]["platform_sso_kubeconfig_dest"]) == expected
