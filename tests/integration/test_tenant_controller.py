"""Issue 27: tenants created with kubectl. The tenant controller (controller/) runs as a process with its
ServiceAccount's identity against the real API server; a platform admin creates Organizations, an organization
admin (the name Dex's sign-in gives them, impersonated) creates RepoBindings in their organization's namespace, and
the controller converges each with the code onboard.yml uses - while neither driver touches the other's tenants."""
from __future__ import annotations

import time

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApi
from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import RunLock
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    DRIVER_CONTROLLER,
    LABEL_DRIVER,
    LABEL_ORGANIZATION,
    sso_user,
)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import DEFAULT_QUOTA
from harness.inventory import onboard, org, pipeline, unique_suffix, write_inventory
from harness.kube import REPO, get, wait_for
from harness.tenant_controller import IDENTITY, TenantController

APHEX = "aphex.io/v1alpha1"
WEBHOOK_DOMAIN = "hooks.selfservice.test"
DRIFT_INTERVAL = 3.0
RESULTS = REPO / "build" / "test-results"


def _api_as(kubeconfig, user: str | None = None) -> dynamic.DynamicClient:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    if user:
        api.set_default_header("Impersonate-User", user)
    return dynamic.DynamicClient(api)


@pytest.fixture(scope="module")
def controller(platform_apis, control_plane, admin_api, tmp_path_factory):
    running = TenantController(control_plane, tmp_path_factory.mktemp("tenant-controller"),
                               {"webhook_domain": WEBHOOK_DOMAIN}, drift_interval=DRIFT_INTERVAL)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        print(running.text()[-4000:])


@pytest.fixture(scope="module")
def admin(control_plane):
    return _api_as(control_plane.admin_kubeconfig)


def _organization(name: str, *admins: str) -> dict:
    return {"apiVersion": APHEX, "kind": "Organization", "metadata": {"name": name, "namespace": "platform-system"},
            "spec": {"displayName": f"{name} Inc.", "adminUsers": list(admins)}}


def _binding(name: str, org_name: str, repo: str, **spec) -> dict:
    owner, repo_name = repo.split("/")
    return {"apiVersion": APHEX, "kind": "RepoBinding", "metadata": {"name": name, "namespace": f"org-{org_name}"},
            "spec": {"aphexOrg": org_name, "repoOrg": owner, "repoName": repo_name, "pipelineName": name,
                     "templateRef": "run-pipeline-v1", **spec}}


def _resource(api: dynamic.DynamicClient, kind: str):
    return api.resources.get(api_version=APHEX, kind=kind)


def _status(admin_api, kind: str, namespace: str, name: str) -> dict:
    return ((get(admin_api, APHEX, kind, name, namespace) or {}).get("status")) or {}


def _wait_phase(admin_api, controller, kind, namespace, name, phase="Ready", timeout=90) -> dict:
    assert wait_for(lambda: _status(admin_api, kind, namespace, name).get("phase") == phase, timeout=timeout), (
        _status(admin_api, kind, namespace, name), controller.text()[-3000:])
    return _status(admin_api, kind, namespace, name)


def _refusal(action) -> str:
    """The API server's reason for refusing ACTION; '' when it was accepted."""
    try:
        action()
    except ApiException as error:
        return f"{error.status} {error.body.decode() if isinstance(error.body, bytes) else error.body}"
    return ""


@pytest.fixture(scope="module")
def tenant(controller, admin, admin_api):
    """A kubectl organization (its admin alice) with one RepoBinding created by alice, both Ready."""
    s = unique_suffix()
    names = {"org": f"self-{s}", "admin": f"alice@self-{s}.io", "pipeline": f"web-{s}", "repo": f"self-{s}/web"}
    _resource(admin, "Organization").create(body=_organization(names["org"], names["admin"]), namespace="platform-system")
    _wait_phase(admin_api, controller, "Organization", "platform-system", names["org"])
    alice = _api_as(controller.plane.admin_kubeconfig, sso_user(names["admin"]))
    _resource(alice, "RepoBinding").create(body=_binding(names["pipeline"], names["org"], names["repo"]),
                                           namespace=f"org-{names['org']}")
    _wait_phase(admin_api, controller, "RepoBinding", f"org-{names['org']}", names["pipeline"])
    return {**names, "alice": alice}


def test_an_organization_created_with_kubectl_is_onboarded_and_its_status_says_so(tenant, admin_api):
    found = get(admin_api, APHEX, "Organization", tenant["org"], "platform-system")
    status = found["status"]
    assert status["observedGeneration"] == found["metadata"]["generation"]
    assert status["namespace"] == f"org-{tenant['org']}"
    assert status["webhookURL"] == f"https://{tenant['org']}.{WEBHOOK_DOMAIN}"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("True", "Converged")
    assert conditions["Degraded"]["status"] == "False"
    # marked as the controller's, and what it made carries the controller's mark
    assert found["metadata"]["labels"][LABEL_DRIVER] == DRIVER_CONTROLLER
    namespace = get(admin_api, "v1", "Namespace", f"org-{tenant['org']}")
    assert namespace["metadata"]["labels"][LABEL_DRIVER] == DRIVER_CONTROLLER
    binding = get(admin_api, "rbac.authorization.k8s.io/v1", "RoleBinding",
                  f"organization-admin-{tenant['admin']}", f"org-{tenant['org']}")
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                    "name": sso_user(tenant["admin"])}]
    secret = get(admin_api, "v1", "Secret", "github-webhook-secret", f"org-{tenant['org']}")
    assert len(secret["data"]["secret"]) == 88  # 64 hex characters, base64-encoded
    # no secret in the status or the controller's log
    assert secret["data"]["secret"] not in str(status)


def test_an_org_admins_repobinding_becomes_a_pipeline_of_their_organization(tenant, admin_api, controller):
    name, org_name = tenant["pipeline"], tenant["org"]
    status = _status(admin_api, "RepoBinding", f"org-{org_name}", name)
    assert (status["namespace"], status["webhookURL"]) == (name, f"https://{org_name}.{WEBHOOK_DOMAIN}")
    namespace = get(admin_api, "v1", "Namespace", name)
    assert namespace["metadata"]["labels"][LABEL_ORGANIZATION] == org_name
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    # without pipelineSpec: the catalog's build-and-deploy-v1
    tekton = get(admin_api, "tekton.dev/v1", "Pipeline", name, name)
    assert [task["name"] for task in tekton["spec"]["tasks"]][:1] == ["clone"]
    listener = get(admin_api, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", f"org-{org_name}")
    assert listener["spec"]["namespaceSelector"]["matchNames"] == [name]
    for kind, obj_name, where in (("AppProject", name, "argocd"),):
        assert get(admin_api, "argoproj.io/v1alpha1", kind, obj_name, where)
    webhook = get(admin_api, "v1", "Secret", "github-webhook-secret", name)
    assert webhook["data"] == get(admin_api, "v1", "Secret", "github-webhook-secret", f"org-{org_name}")["data"]
    assert webhook["data"]["secret"] not in controller.text()


def test_the_quota_ceiling_of_repobindings_is_the_controllers_own(tenant, admin_api, audit):
    quota = get(admin_api, "v1", "ConfigMap", "aphex-tenant-quota", "platform-system")
    assert quota["data"] == DEFAULT_QUOTA
    assert [e.verb for e in audit.writes(user=IDENTITY) if e.resource == "configmaps"
            and e.name == "aphex-tenant-quota"] == ["patch"]


def test_a_deleted_rolebinding_is_repaired_without_ansible(tenant, admin_api, controller):
    rbac = client.RbacAuthorizationV1Api(admin_api)
    name = tenant["pipeline"]
    before = rbac.read_namespaced_role_binding("pipeline-runner", name).metadata.uid
    rbac.delete_namespaced_role_binding("pipeline-runner", name)
    deleted = time.monotonic()

    def repaired():
        try:
            return rbac.read_namespaced_role_binding("pipeline-runner", name).metadata.uid != before
        except ApiException as error:
            if error.status == 404:
                return False
            raise
    assert wait_for(repaired, timeout=DRIFT_INTERVAL * 10 + 30, interval=0.2), controller.text()[-3000:]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tenant-controller-drift.txt").write_text(
        f"deleted RoleBinding repaired after {time.monotonic() - deleted:.1f} s (drift interval {DRIFT_INTERVAL} s)\n")


def test_at_rest_the_controller_sends_no_write(tenant, audit, controller):
    time.sleep(DRIFT_INTERVAL)  # the repair above, if any, is over
    mark = audit.mark()
    time.sleep(DRIFT_INTERVAL * 3)  # several timer rounds for both objects
    events = audit.events(since=mark, user=IDENTITY)
    assert events, "the controller sent nothing in three drift intervals: its timers do not run"
    assert [(e.verb, e.resource, e.namespace, e.name) for e in events if e.is_write] == []


def test_an_org_admin_cannot_bind_a_repository_for_another_organization(tenant, controller, admin, admin_api):
    s = unique_suffix()
    other = f"other-{s}"
    _resource(admin, "Organization").create(body=_organization(other, f"bob@{other}.io"), namespace="platform-system")
    _wait_phase(admin_api, controller, "Organization", "platform-system", other)
    repo_bindings = _resource(tenant["alice"], "RepoBinding")
    # another organization's namespace: RBAC
    refused = _refusal(lambda: repo_bindings.create(body=_binding(f"x-{s}", other, "a/b"), namespace=f"org-{other}"))
    assert refused.startswith("403") and "cannot create resource" in refused, refused
    # their own namespace, naming the other organization: the admission policy
    body = _binding(f"y-{s}", other, "a/b")
    body["metadata"]["namespace"] = f"org-{tenant['org']}"
    refused = _refusal(lambda: repo_bindings.create(body=body, namespace=f"org-{tenant['org']}"))
    assert "aphex-tenant-repobindings" in refused and "spec.aphexOrg" in refused, refused


@pytest.mark.parametrize("change, field", [
    ({"quota": {"limits.cpu": "64"}}, "spec.quota"),
    ({"quota": {"services": "5"}}, "spec.quota"),
    ({"pipelineName": "something-else"}, "spec.pipelineName"),
    ({"repoName": ".."}, "spec.repoName"),
    ({"pullRequests": "everyone"}, "spec.pullRequests"),
])
def test_bad_repobindings_are_refused_at_admission_naming_the_field(tenant, change, field):
    s = unique_suffix()
    body = _binding(f"bad-{s}", tenant["org"], "acme/bad")
    body["spec"].update(change)
    refused = _refusal(lambda: _resource(tenant["alice"], "RepoBinding").create(
        body=body, namespace=f"org-{tenant['org']}"))
    assert refused.startswith(("403", "422")) and field in refused, refused


@pytest.mark.parametrize("name, field, why", [("kube-system", "metadata.name", "reserved"),
                                              ("org-x", "metadata.name", "org-"),
                                              ("a" * 62, "spec.pipelineName", "61")])
def test_repobinding_names_follow_the_inventory_rules(tenant, name, field, why):
    refused = _refusal(lambda: _resource(tenant["alice"], "RepoBinding").create(
        body=_binding(name, tenant["org"], "acme/named"), namespace=f"org-{tenant['org']}"))
    assert refused.startswith("422") and field in refused and why in refused, refused


def test_an_org_admin_cannot_set_the_platforms_labels(tenant):
    body = _binding(f"lbl-{unique_suffix()}", tenant["org"], "acme/labels")
    body["metadata"]["labels"] = {"platform.aphex/managed-by": "aphex-platform"}
    refused = _refusal(lambda: _resource(tenant["alice"], "RepoBinding").create(
        body=body, namespace=f"org-{tenant['org']}"))
    assert "aphex-tenant-repobindings" in refused and "metadata.labels" in refused, refused


def test_a_repository_is_bound_once(tenant, admin_api, controller):
    name = f"dup-{unique_suffix()}"
    _resource(tenant["alice"], "RepoBinding").create(body=_binding(name, tenant["org"], tenant["repo"]),
                                                     namespace=f"org-{tenant['org']}")
    status = _wait_phase(admin_api, controller, "RepoBinding", f"org-{tenant['org']}", name, phase="Failed")
    degraded = {c["type"]: c for c in status["conditions"]}["Degraded"]
    assert (degraded["status"], degraded["reason"]) == ("True", "RepositoryAlreadyBound")
    assert tenant["pipeline"] in degraded["message"]
    assert get(admin_api, "v1", "Namespace", name) is None
    _resource(tenant["alice"], "RepoBinding").delete(name=name, namespace=f"org-{tenant['org']}")
    assert wait_for(lambda: get(admin_api, APHEX, "RepoBinding", name, f"org-{tenant['org']}") is None, timeout=60)


def test_a_repobinding_waits_for_the_run_lock_of_an_ansible_run(tenant, admin_api, controller):
    # the lock as onboard.yml's run takes it (module_utils/kube/run_lock.py)
    lock = RunLock(ClusterApi(kubeconfig=str(controller.plane.admin_kubeconfig)), "ansible-run/test")
    lock.acquire(timeout=30)
    name = f"locked-{unique_suffix()}"
    try:
        _resource(tenant["alice"], "RepoBinding").create(body=_binding(name, tenant["org"], f"acme/{name}"),
                                                         namespace=f"org-{tenant['org']}")
        status = _wait_phase(admin_api, controller, "RepoBinding", f"org-{tenant['org']}", name, phase="Pending")
        assert {c["type"]: c for c in status["conditions"]}["Ready"]["reason"] == "WaitingForRunLock"
        assert get(admin_api, "v1", "Namespace", name) is None
    finally:
        assert lock.release()
    _wait_phase(admin_api, controller, "RepoBinding", f"org-{tenant['org']}", name)
    _resource(tenant["alice"], "RepoBinding").delete(name=name, namespace=f"org-{tenant['org']}")
    assert wait_for(lambda: get(admin_api, "v1", "Namespace", name) is None
                    or get(admin_api, "v1", "Namespace", name)["metadata"].get("deletionTimestamp"), timeout=60)


def test_deleting_a_repobinding_removes_its_pipeline_and_an_organization_waits_for_its_repobindings(
        controller, admin, admin_api):
    s = unique_suffix()
    org_name, name, email = f"gone-{s}", f"gone-web-{s}", f"carol@gone-{s}.io"
    _resource(admin, "Organization").create(body=_organization(org_name, email), namespace="platform-system")
    _wait_phase(admin_api, controller, "Organization", "platform-system", org_name)
    carol = _api_as(controller.plane.admin_kubeconfig, sso_user(email))
    _resource(carol, "RepoBinding").create(body=_binding(name, org_name, f"gone-{s}/web"), namespace=f"org-{org_name}")
    _wait_phase(admin_api, controller, "RepoBinding", f"org-{org_name}", name)

    _resource(admin, "Organization").delete(name=org_name, namespace="platform-system")
    assert wait_for(lambda: {c["type"]: c for c in _status(admin_api, "Organization", "platform-system", org_name)
                             .get("conditions", [])}.get("Degraded", {}).get("reason") == "HasRepoBindings",
                    timeout=60), controller.text()[-3000:]
    assert get(admin_api, "v1", "Namespace", name)["metadata"].get("deletionTimestamp") is None

    _resource(carol, "RepoBinding").delete(name=name, namespace=f"org-{org_name}")
    assert wait_for(lambda: get(admin_api, APHEX, "Organization", org_name, "platform-system") is None, timeout=120), (
        controller.text()[-3000:])
    for namespace in (name, f"org-{org_name}"):
        found = get(admin_api, "v1", "Namespace", namespace)
        assert found is None or found["metadata"].get("deletionTimestamp"), namespace
    assert get(admin_api, "argoproj.io/v1alpha1", "AppProject", name, "argocd") is None


def test_inventory_tenants_and_kubectl_tenants_never_touch_each_other(tenant, controller, control_plane, admin,
                                                                      admin_api, tmp_path):
    s = unique_suffix()
    inventory_org, inventory_pipeline = f"inv-{s}", f"inv-web-{s}"
    kubectl_org_uid = get(admin_api, "v1", "Namespace", f"org-{tenant['org']}")["metadata"]["uid"]
    kubectl_pipeline_uid = get(admin_api, "v1", "Namespace", tenant["pipeline"])["metadata"]["uid"]

    # the inventory onboards, then prunes everything it does not list: the kubectl tenants are not its own
    inventory = write_inventory(tmp_path / "inventory", control_plane.admin_kubeconfig,
                                aphex_organizations=[org(inventory_org, f"dan@{inventory_org}.io")],
                                aphex_pipelines=[pipeline(inventory_pipeline, inventory_org, f"inv-{s}/web")])
    run = onboard(inventory)
    assert run.returncode == 0, run.output
    run = onboard(inventory, "-e", "aphex_prune_tenants=true", "-e", "aphex_prune_confirm=1000")
    assert run.returncode == 0, run.output
    assert tenant["org"] not in run.output and tenant["pipeline"] not in run.output.split("unlisted")[-1]
    assert get(admin_api, "v1", "Namespace", f"org-{tenant['org']}")["metadata"]["uid"] == kubectl_org_uid
    assert get(admin_api, "v1", "Namespace", tenant["pipeline"])["metadata"]["uid"] == kubectl_pipeline_uid
    assert _status(admin_api, "Organization", "platform-system", tenant["org"])["phase"] == "Ready"

    # the inventory claiming a kubectl organization's name is refused before anything is written
    taken = write_inventory(tmp_path / "taken", control_plane.admin_kubeconfig,
                            aphex_organizations=[org(tenant["org"], "eve@taken.io")])
    run = onboard(taken)
    assert run.returncode != 0
    assert "tenant controller" in run.output and f"org-{tenant['org']}" in run.output, run.output
    assert "eve@taken.io" not in str(client.RbacAuthorizationV1Api(admin_api).list_namespaced_role_binding(
        f"org-{tenant['org']}").items)

    # the controller leaves the inventory's organization alone: a RepoBinding there is refused, nothing made
    dan = _api_as(control_plane.admin_kubeconfig, sso_user(f"dan@{inventory_org}.io"))
    name = f"rogue-{s}"
    _resource(dan, "RepoBinding").create(body=_binding(name, inventory_org, f"inv-{s}/rogue"),
                                         namespace=f"org-{inventory_org}")
    status = _wait_phase(admin_api, controller, "RepoBinding", f"org-{inventory_org}", name, phase="Failed")
    assert {c["type"]: c for c in status["conditions"]}["Ready"]["reason"] == "OrganizationManagedByInventory"
    assert get(admin_api, "v1", "Namespace", name) is None
    listener = get(admin_api, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", f"org-{inventory_org}")
    assert listener["spec"]["namespaceSelector"]["matchNames"] == [inventory_pipeline]
    # and the inventory's records are not the controller's to mark
    record = get(admin_api, APHEX, "Organization", inventory_org, "platform-system")
    assert LABEL_DRIVER not in record["metadata"]["labels"]
    _resource(dan, "RepoBinding").delete(name=name, namespace=f"org-{inventory_org}")
    assert wait_for(lambda: get(admin_api, APHEX, "RepoBinding", name, f"org-{inventory_org}") is None, timeout=60)
