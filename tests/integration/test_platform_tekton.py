"""Issue 23 items 1 to 3: the real Tekton on the local control plane. Tekton Pipelines v1.6.0 and Triggers v0.34.0, built
from their Go modules (harness/builds/build-tekton.sh), run as their releases' ServiceAccounts with the Deployments'
own configuration; the kube-apiserver reaches their admission webhooks through the egress guard, which hands the
webhook Services' cluster addresses to the processes' loopback ports and nothing else. Every Tekton object the
collection and its pipeline catalog write passes Tekton's own validation and defaulting, and a broken one is refused
with Tekton's message. GitHub-shaped deliveries, signed or not, reach each organization's EventListener sink (run as
the organization's `eventlistener` ServiceAccount) and are judged by the real `github` and `cel` core interceptors:
exactly one PipelineRun for a valid push or pull request, none for anything else, and the sink keeps serving. The
PipelineRuns run: Tekton's controller resolves the pipeline through the cluster resolver and creates TaskRuns and
their pods as `pipeline-runner`, inside the tenant's quota and LimitRange, with the workspace PVC; KWOK stands in for
the container runtime (harness/platform/kwok/tekton-steps-succeed.yaml, tekton-step-fails.yaml: the steps exit 0, or a chosen step exits 1)."""
from __future__ import annotations

import base64
import copy
import json
import time

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.exceptions import ApiException

from ansible_collections.aphex.platform.plugins.module_utils.naming import sso_user
from harness import REPO, github
from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER
from harness.controlplane.pki import IN_CLUSTER_NAMES
from harness.inventory import onboard, org, pipeline, tenant_writes, write_inventory
from harness.kube import get, wait_for
from harness.platform.live import TEST_MODE, applications, bootstrapped_platform, only_apps
from harness.platform.push import pipeline_runs
from harness.platform.stack import TEKTON_COMPONENTS, TEKTON_NAMESPACE, PlatformStack

# A pipeline that deploys: the catalog's build-and-deploy-v1, copied as a tenant would.
DEPLOYING, DEPLOYING_REPO = "acme-shop", "acme-corp/shop"
BUILD_AND_DEPLOY = (REPO / "files/pipeline-catalog/v1/build-and-deploy.yaml").read_text()
KEPT = {"platform-crds", "platform-rbac", "tekton-pipelines", "tekton-triggers", "external-secrets",
        "pipeline-catalog"}
ORGANIZATIONS = ("acme", "bolt")
WEBHOOKS = {
    ("ValidatingWebhookConfiguration", "validation.webhook.pipeline.tekton.dev"): "tekton-pipelines-webhook",
    ("ValidatingWebhookConfiguration", "config.webhook.pipeline.tekton.dev"): "tekton-pipelines-webhook",
    ("MutatingWebhookConfiguration", "webhook.pipeline.tekton.dev"): "tekton-pipelines-webhook",
    ("ValidatingWebhookConfiguration", "validation.webhook.triggers.tekton.dev"): "tekton-triggers-webhook",
    ("ValidatingWebhookConfiguration", "config.webhook.triggers.tekton.dev"): "tekton-triggers-webhook",
    ("MutatingWebhookConfiguration", "webhook.triggers.tekton.dev"): "tekton-triggers-webhook",
}
# What the collection writes of Tekton: the pipeline catalog's Tasks and Pipeline, each pipeline's Pipeline, each
# organization's EventListener with its Triggers, bindings and templates.
TEKTON_KINDS = (("tekton.dev/v1", "Task"), ("tekton.dev/v1", "Pipeline"),
                ("triggers.tekton.dev/v1beta1", "EventListener"), ("triggers.tekton.dev/v1beta1", "Trigger"),
                ("triggers.tekton.dev/v1beta1", "TriggerBinding"), ("triggers.tekton.dev/v1beta1", "TriggerTemplate"))


def service_account(name: str) -> str:
    return f"system:serviceaccount:{TEKTON_NAMESPACE}:{name}"


@pytest.fixture(scope="module")
def tekton(tmp_path_factory):
    work = tmp_path_factory.mktemp("platform-tekton")
    with bootstrapped_platform(work, "kind", TEST_MODE, aphex_apps_overrides=only_apps("kind", KEPT)) as platform:
        assert platform["first"].returncode == 0, platform["first"].output[-4000:]
        plane = platform["plane"]
        # Onboarded once Tekton's webhooks are in place, so every tenant object goes through them.
        wait_for(lambda: all(webhook_ready(platform["api"], kind, name) for kind, name in WEBHOOKS), timeout=120)
        # The tenants' repositories are on the test platform's Git server, in GitHub's place.
        inventory = write_inventory(work / "tenants", plane.admin_kubeconfig,
                                    aphex_git_server_url=platform["info"]["git_server"],
                                    aphex_organizations=[org(name) for name in ORGANIZATIONS],
                                    aphex_pipelines=[pipeline(f"{name}-web", name, f"{name}-corp/web")
                                                     for name in ORGANIZATIONS]
                                    + [pipeline(DEPLOYING, "acme", DEPLOYING_REPO, pipeline=BUILD_AND_DEPLOY)])
        platform["onboarded"] = onboard(inventory)
        platform["tenants"] = inventory
        yield platform


@pytest.fixture(scope="module")
def listeners(tekton):
    """Each organization's EventListener sink on loopback, and its webhook secret: {org: (url, secret)}."""
    assert tekton["onboarded"].returncode == 0, tekton["onboarded"].output[-4000:]
    stack, core = PlatformStack(tekton["plane"]), client.CoreV1Api(tekton["api"])
    return {name: (stack.start_event_listener(name, log_level="debug"),
                   base64.b64decode(core.read_namespaced_secret("github-webhook-secret", f"org-{name}").data["secret"]))
            for name in ORGANIZATIONS}


def sink_log(plane, organization: str, event_id: str) -> list:
    """The sink's log lines about one delivery (its messages)."""
    lines = []
    for line in (plane.dir / "logs" / f"el-org-{organization}.log").read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("/triggers-eventid") == event_id:
            lines.append(entry.get("message", ""))
    return lines


def created_run(api, answer) -> dict:
    assert answer.status == 202, (answer.status, answer.body)
    event_id = answer.json()["eventID"]
    assert wait_for(lambda: pipeline_runs(api, event_id), timeout=30), event_id
    runs = pipeline_runs(api, event_id)
    assert len(runs) == 1, [r["metadata"]["name"] for r in runs]
    return runs[0]


def params(run: dict) -> dict:
    return {p["name"]: p["value"] for p in run["spec"]["params"]}


def webhook_ready(api, kind: str, name: str) -> bool:
    """Tekton's webhook fills in its configurations itself: the rules and its CA."""
    configuration = get(api, "admissionregistration.k8s.io/v1", kind, name)
    return bool(configuration) and all(w.get("rules") and w["clientConfig"].get("caBundle")
                                       for w in configuration["webhooks"])


def tekton_objects(api) -> list:
    """Every Tekton object in the cluster of the kinds the collection writes."""
    dynamic_client = dynamic.DynamicClient(api)
    return [item for api_version, kind in TEKTON_KINDS
            for item in dynamic_client.resources.get(api_version=api_version, kind=kind).get().to_dict()["items"]]


def test_tekton_runs_as_its_service_accounts_with_its_webhooks_on_loopback(tekton):
    api, plane = tekton["api"], tekton["plane"]
    running = set(plane.running_components())
    assert set(TEKTON_COMPONENTS) <= running, running
    apps = applications(api)
    assert {name: (apps[name]["status"]["sync"]["status"], apps[name]["status"]["health"]["status"])
            for name in ("tekton-pipelines", "tekton-triggers")} == {
        "tekton-pipelines": ("Synced", "Healthy"), "tekton-triggers": ("Synced", "Healthy")}
    # The webhook configurations were completed by each webhook's own identity.
    audit = AuditLog(plane.audit_log)
    for (kind, name), account in WEBHOOKS.items():
        assert webhook_ready(api, kind, name), name
        writers = {event.user for event in audit.writes() if event.name == name and event.verb in ("update", "patch")}
        assert service_account(account) in writers, (name, writers)
    # Each controller wrote as its ServiceAccount (its leader-election leases at least), and as nothing else.
    for component in ("tekton-pipelines-controller", "tekton-triggers-controller"):
        assert audit.writes(user=service_account(component)), component
    # The kube-apiserver called both webhooks, through the egress guard to loopback, and tried nothing else.
    core = client.CoreV1Api(api)
    addresses = {f"{core.read_namespaced_service(service, TEKTON_NAMESPACE).spec.cluster_ip}:443"
                 for service in set(WEBHOOKS.values())}
    # (External Secrets, run as a local process, reaches the API server by its in-cluster name through the guard's
    # loopback proxy: those routes are not the kube-apiserver's.)
    api_server = {f"{name}:443" for name in IN_CLUSTER_NAMES}
    routed = {entry["request"].split()[1] for entry in plane.egress_routed()} - api_server
    assert routed == addresses, (routed, addresses)
    assert plane.egress_attempts() == []


def test_everything_the_collection_writes_passes_tektons_validation(tekton):
    api, plane = tekton["api"], tekton["plane"]
    assert tekton["onboarded"].returncode == 0, tekton["onboarded"].output[-4000:]
    objects = tekton_objects(api)
    found = {(o["kind"], o["metadata"]["namespace"]) for o in objects}
    for name in ORGANIZATIONS:
        assert {("EventListener", f"org-{name}"), ("Pipeline", f"{name}-web")} <= found, found
    assert {("Task", "pipeline-catalog"), ("Pipeline", "pipeline-catalog"), ("Trigger", "org-acme"),
            ("TriggerBinding", "org-acme"), ("TriggerTemplate", "org-acme")} <= found, found
    # Each one again, as a server-side dry run under a new name: the kube-apiserver calls Tekton's defaulting and
    # validation webhooks for every one, and Tekton accepts them all.
    dynamic_client = dynamic.DynamicClient(api)
    refused = []
    for item in objects:
        copied = {"apiVersion": item["apiVersion"], "kind": item["kind"], "spec": copy.deepcopy(item["spec"]),
                  "metadata": {"name": item["metadata"]["name"] + "-again",
                               "namespace": item["metadata"]["namespace"]}}
        resource = dynamic_client.resources.get(api_version=item["apiVersion"], kind=item["kind"])
        try:
            resource.create(body=copied, namespace=copied["metadata"]["namespace"], query_params=[("dryRun", "All")])
        except ApiException as error:
            refused.append((item["kind"], item["metadata"]["namespace"], item["metadata"]["name"], error.body))
    assert refused == []
    # Each of those kinds is one Tekton's webhooks validate and default, by the rules Tekton registered itself (the
    # kube-apiserver keeps its connection to a webhook open, so the guard's count of connections says less).
    for kind, name in WEBHOOKS:
        if name.startswith(("validation.", "webhook.")):
            configuration = get(api, "admissionregistration.k8s.io/v1", kind, name)
            covered = {(group, version, resource) for rule in configuration["webhooks"][0]["rules"]
                       for group in rule["apiGroups"] for version in rule["apiVersions"]
                       for resource in rule["resources"]}
            for item in objects:
                if item["apiVersion"].split("/")[0] in {rule[0] for rule in covered}:
                    group, version = item["apiVersion"].split("/")
                    assert (group, version, item["kind"].lower() + "s") in covered, (name, item["kind"])
    assert plane.egress_routed() and plane.egress_attempts() == []


def test_the_organizations_event_listeners_are_made_ready_by_the_real_triggers_controller(tekton):
    api, plane = tekton["api"], tekton["plane"]
    audit = AuditLog(plane.audit_log)
    apps = client.AppsV1Api(api)
    for name in ORGANIZATIONS:
        def ready():
            listener = get(api, "triggers.tekton.dev/v1beta1", "EventListener", "github-listener", f"org-{name}")
            conditions = {c["type"]: c["status"] for c in (listener.get("status") or {}).get("conditions") or []}
            return conditions.get("Ready") == "True"

        assert wait_for(ready, timeout=90), name
        deployment = apps.read_namespaced_deployment("el-github-listener", f"org-{name}")
        # The listener runs as the organization's own ServiceAccount, which the collection grants.
        assert deployment.spec.template.spec.service_account_name == "eventlistener"
        creators = {event.user for event in audit.writes() if event.verb == "create"
                    and event.resource == "deployments" and event.namespace == f"org-{name}"
                    and event.name == "el-github-listener"}
        assert creators == {service_account("tekton-triggers-controller")}, creators


def test_a_second_onboarding_leaves_what_the_triggers_controller_made_alone(tekton):
    """Tekton Triggers copies an EventListener's labels, the collection's included, onto the Deployment and Service
    it makes; the collection took them for its own stale objects and deleted them on every run (the controller made
    them again). A re-run now writes nothing, and they keep their uid."""
    api, plane = tekton["api"], tekton["plane"]
    apps = client.AppsV1Api(api)
    made_by_triggers = "app.kubernetes.io/managed-by=EventListener"
    assert wait_for(lambda: all(apps.list_namespaced_deployment(f"org-{name}", label_selector=made_by_triggers).items
                                for name in ORGANIZATIONS), timeout=90)
    uids = {name: apps.read_namespaced_deployment("el-github-listener", f"org-{name}").metadata.uid
            for name in ORGANIZATIONS}
    audit = AuditLog(plane.audit_log)
    mark = audit.mark()
    again = onboard(tekton["tenants"])
    assert again.returncode == 0, again.output[-4000:]
    assert again.changed == 0 and tenant_writes(audit, mark, ADMIN_USER) == []
    assert {name: apps.read_namespaced_deployment("el-github-listener", f"org-{name}").metadata.uid
            for name in ORGANIZATIONS} == uids


BROKEN = [
    ("tekton.dev/v1", "Pipeline", {"tasks": [{"name": "build", "taskRef": {"name": "x"}},
                                             {"name": "build", "taskRef": {"name": "y"}}]},
     'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request', "duplicate pipeline task"),
    ("tekton.dev/v1", "Task", {"steps": [{"name": "no-image"}]},
     'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request',
     "missing field(s): spec.steps[0].Image"),
    ("triggers.tekton.dev/v1beta1", "EventListener",
     {"triggers": [{"name": "no-template", "interceptors": [{"ref": {"name": "github"}}]}]},
     'admission webhook "validation.webhook.triggers.tekton.dev" denied the request',
     "expected exactly one, got neither: spec.triggers[0].template"),
]


@pytest.mark.parametrize("api_version, kind, spec, webhook, detail", BROKEN, ids=[b[1] for b in BROKEN])
def test_a_broken_object_is_refused_by_tekton_with_its_message(tekton, api_version, kind, spec, webhook, detail):
    api = tekton["api"]
    resource = dynamic.DynamicClient(api).resources.get(api_version=api_version, kind=kind)
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "broken", "namespace": "pipeline-catalog"},
            "spec": spec}
    with pytest.raises(ApiException) as refused:
        resource.create(body=body, namespace="pipeline-catalog")
    message = json.loads(refused.value.body)["message"]
    assert refused.value.status == 400 and message.startswith(webhook), message
    assert detail in message, message
    assert get(api, api_version, kind, "broken", "pipeline-catalog") is None


def test_a_signed_push_creates_exactly_one_pipeline_run_with_the_dispatcher_contract(tekton, listeners):
    url, secret = listeners["acme"]
    revision = "a1" * 20
    answer = github.deliver(url, "push", github.push("acme-corp/web", revision), secret)
    run = created_run(tekton["api"], answer)
    assert run["metadata"]["namespace"] == "acme-web"
    assert params(run) == {"git-url": "https://github.com/acme-corp/web.git", "git-revision": revision,
                           "repo-full-name": ["acme-corp/web"], "event-type": "push", "event-id": answer.delivery,
                           "org-name": "acme", "triggered-at": "1796500000"}
    # The dispatcher resolves the tenant's own Pipeline through the cluster resolver.
    assert run["spec"]["pipelineRef"]["resolver"] == "cluster"


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
def test_a_pull_request_runs_at_its_head(tekton, listeners, action):
    url, secret = listeners["bolt"]
    head = "b2" * 20
    answer = github.deliver(url, "pull_request", github.pull_request("bolt-corp/web", head, action=action), secret)
    run = created_run(tekton["api"], answer)
    assert run["metadata"]["namespace"] == "bolt-web"
    assert (params(run)["git-revision"], params(run)["event-type"]) == (head, "pull_request")


def test_a_tag_push_runs_at_the_tagged_commit(tekton, listeners):
    url, secret = listeners["acme"]
    answer = github.deliver(url, "push", github.push("acme-corp/web", "c3" * 20, ref="refs/tags/v1.0.0"), secret)
    assert params(created_run(tekton["api"], answer))["git-revision"] == "c3" * 20


REFUSED = {
    # name: (organization whose listener gets it, event, payload, how it is signed, what the sink logs)
    "wrong signature": ("acme", "push", github.push("acme-corp/web", "d4" * 20), b"not-the-secret",
                        "payload signature check failed"),
    "no signature": ("acme", "push", github.push("acme-corp/web", "d4" * 20), None,
                     "no X-Hub-Signature-256 header set"),
    "another organization's secret": ("acme", "push", github.push("acme-corp/web", "d4" * 20), "bolt",
                                      "payload signature check failed"),
    "another organization's repository": ("acme", "push", github.push("bolt-corp/web", "d4" * 20), "own",
                                          "interceptor stopped trigger processing"),
    "an unregistered repository": ("acme", "push", github.push("acme-corp/unknown", "d4" * 20), "own",
                                   "interceptor stopped trigger processing"),
    "a ping": ("acme", "ping", github.ping("acme-corp/web"), "own", "event type ping is not allowed"),
    "a branch deletion": ("acme", "push", github.push("acme-corp/web", "d4" * 20, deleted=True), "own",
                          "interceptor stopped trigger processing"),
    "a closed pull request": ("bolt", "pull_request", github.pull_request("bolt-corp/web", "d4" * 20,
                                                                          action="closed"), "own",
                              "interceptor stopped trigger processing"),
    "a fork's pull request": ("bolt", "pull_request", github.pull_request(
        "bolt-corp/web", "d4" * 20, author_association="NONE", head_repo="stranger/web"), "own",
        "interceptor stopped trigger processing"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_delivery_that_must_not_run_creates_nothing_and_the_sink_says_why(tekton, listeners, case):
    organization, event, payload, signing, reason = REFUSED[case]
    url, own = listeners[organization]
    if signing == "own":
        key = own
    elif signing in listeners:  # another organization's webhook secret
        key = listeners[signing][1]
    else:  # None (unsigned) or a wrong key
        key = signing
    answer = github.deliver(url, event, payload, key)
    assert answer.status == 202, (answer.status, answer.body)
    event_id = answer.json()["eventID"]
    assert wait_for(lambda: any(reason in line for line in sink_log(tekton["plane"], organization, event_id)),
                    timeout=30), sink_log(tekton["plane"], organization, event_id)
    time.sleep(2)  # a PipelineRun, had one been made, is created before the reason is logged
    assert pipeline_runs(tekton["api"], event_id) == []


def test_malformed_and_oversized_bodies_are_refused_and_the_sink_keeps_serving(tekton, listeners):
    url, secret = listeners["acme"]
    malformed = github.deliver(url, "push", None, secret, raw=b"{not json")
    assert malformed.status == 400 and "Invalid event body format" in malformed.json()["errorMessage"], malformed
    # Over GitHub's own 25 MB cap, validly signed: the sink takes any size (upstream sets no limit; a limit belongs
    # in front of it), and the event filter stops it - nothing is created.
    oversized = github.deliver(url, "push", None, secret, raw=b'{"pad": "' + b"x" * (26 * 1024 * 1024) + b'"}')
    assert oversized.status == 202, oversized.status
    event_id = oversized.json()["eventID"]
    assert wait_for(lambda: any("interceptor stopped trigger processing" in line
                                for line in sink_log(tekton["plane"], "acme", event_id)), timeout=30)
    assert pipeline_runs(tekton["api"], event_id) == []
    # And the listener still serves: a valid push afterwards creates its run.
    answer = github.deliver(url, "push", github.push("acme-corp/web", "e5" * 20), secret)
    assert params(created_run(tekton["api"], answer))["git-revision"] == "e5" * 20


def test_the_sink_resolved_nothing_but_the_interceptors_service_and_the_api_server_nothing_off_loopback(
        tekton, listeners):
    plane = tekton["plane"]
    for name in ORGANIZATIONS:
        log = (plane.dir / "logs" / f"el-org-{name}.log").read_text(errors="replace")
        answered = {line.split()[3] for line in log.splitlines() if line.startswith("aphex-resolver: answered")}
        refused = [line for line in log.splitlines() if line.startswith("aphex-resolver: refused")]
        assert answered == {"tekton-triggers-core-interceptors.tekton-pipelines.svc"} and refused == [], (
            answered, refused)
    assert plane.egress_attempts() == []


def succeeded(api, run: dict, timeout: float = 90) -> dict:
    """The run once it finished: its Succeeded condition."""
    runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="PipelineRun")

    def finished():
        current = runs.get(name=run["metadata"]["name"], namespace=run["metadata"]["namespace"]).to_dict()
        conditions = {c["type"]: c for c in (current.get("status") or {}).get("conditions") or []}
        done = conditions.get("Succeeded", {}).get("status") in ("True", "False")
        return conditions["Succeeded"] if done else None

    condition = wait_for(finished, timeout=timeout)
    assert condition, run["metadata"]["name"]
    return condition


def test_pushes_run_their_pipeline_as_pipeline_runner_inside_the_tenants_quota(tekton, listeners):
    """More pushes than the tenant's quota has PVCs (five by default): each run gets its workspace PVC, runs to
    Succeeded and gives the PVC back (the catalog's coschedule: pipelineruns)."""
    api = tekton["api"]
    url, secret = listeners["acme"]
    core = client.CoreV1Api(api)
    [limits] = core.list_namespaced_limit_range("acme-web").items
    [quota] = core.list_namespaced_resource_quota("acme-web").items
    assert int(quota.spec.hard["persistentvolumeclaims"]) < 6
    default = next(item for item in limits.spec.limits if item.type == "Container")
    for number in range(6):
        answer = github.deliver(url, "push", github.push("acme-corp/web", f"{number:02d}" * 20), secret)
        run = created_run(api, answer)
        condition = succeeded(api, run)
        assert (condition["status"], condition["reason"]) == ("True", "Succeeded"), condition
        pods = core.list_namespaced_pod("acme-web", label_selector=f"tekton.dev/pipelineRun={run['metadata']['name']}")
        steps = [pod for pod in pods.items if pod.metadata.labels.get("tekton.dev/taskRun")]
        assert steps, run["metadata"]["name"]
        for pod in steps:
            assert pod.spec.service_account_name == "pipeline-runner"
            # The LimitRange's defaults, given by the real admission (the catalog's steps set none).
            step = next(c for c in pod.spec.containers if c.name.startswith("step-"))
            assert step.resources.limits == default.default and step.resources.requests == default.default_request
    # The runs' PVCs are gone once each completed: the quota has room for the next push.
    assert wait_for(lambda: not core.list_namespaced_persistent_volume_claim("acme-web").items, timeout=60), [
        pvc.metadata.name for pvc in core.list_namespaced_persistent_volume_claim("acme-web").items]
    # Each run's pipeline came through the cluster resolver, in the tenant's own namespace.
    requests = dynamic.DynamicClient(api).resources.get(
        api_version="resolution.tekton.dev/v1beta1", kind="ResolutionRequest")
    resolved = requests.get(namespace="acme-web").to_dict()["items"]
    assert resolved and all(r["metadata"]["labels"]["resolution.tekton.dev/type"] == "cluster" for r in resolved)


RESOLVE_BOLT_WEB = [{"name": "kind", "value": "pipeline"}, {"name": "name", "value": "bolt-web"},
                    {"name": "namespace", "value": "bolt-web"}]


def test_a_failing_step_fails_the_run_naming_the_step(tekton):
    api = tekton["api"]
    runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="PipelineRun")
    run = runs.create(namespace="bolt-web", body={
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        # Tekton copies a PipelineRun's annotations onto its TaskRuns' pods; KWOK's Stage reads this one.
        "metadata": {"generateName": "failing-", "namespace": "bolt-web",
                     "annotations": {"platform.aphex/test-fail-step": "step-clone"}},
        "spec": {"pipelineRef": {"resolver": "cluster", "params": RESOLVE_BOLT_WEB},
                 "params": [{"name": "git-url", "value": "https://github.com/bolt-corp/web.git"},
                            {"name": "git-revision", "value": "f6" * 20},
                            {"name": "repo-full-name", "value": ["bolt-corp/web"]}],
                 "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {
                     "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}],
                 "taskRunTemplate": {"serviceAccountName": "pipeline-runner"}}}).to_dict()
    condition = succeeded(api, run)
    assert (condition["status"], condition["reason"]) == ("False", "Failed"), condition
    task_runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="TaskRun").get(
        namespace="bolt-web", label_selector=f"tekton.dev/pipelineRun={run['metadata']['name']}").to_dict()["items"]
    [message] = [c["message"] for c in task_runs[0]["status"]["conditions"] if c["type"] == "Succeeded"]
    assert message == '"step-clone" exited with code 1: Error', message


# Issue 23 item 4: the deploy step deploys through the real ArgoCD, inside the tenant's box. The tenant's repository is
# on the test platform's Git server (harness/gitserver.py: git http-backend on loopback), in GitHub's place.
SHOP = {
    "deploy/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: shop
          image: registry.example.test/acme/shop:1.0.0
          ports: [{containerPort: 8080}]
          securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 10001}
""",
    "deploy/service.yaml": """apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 8080}]
""",
}
# What a tenant's repository must not deploy (each: the file added, where it would land, what ArgoCD says).
OUT_OF_THE_BOX = {
    "a ClusterRoleBinding": ("deploy/escalate.yaml", """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: acme-shop-escalate}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: pipeline-runner, namespace: acme-shop}]
""", ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "acme-shop-escalate", None),
        "ClusterRoleBinding"),
    "an object in another namespace": ("deploy/elsewhere.yaml", """apiVersion: v1
kind: ConfigMap
metadata: {name: acme-shop-elsewhere, namespace: acme-web}
data: {planted: "yes"}
""", ("v1", "ConfigMap", "acme-shop-elsewhere", "acme-web"), "acme-web"),
    "a NetworkPolicy": ("deploy/open.yaml", """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-everything}
spec:
  podSelector: {}
  ingress: [{}]
  egress: [{}]
""", ("networking.k8s.io/v1", "NetworkPolicy", "allow-everything", DEPLOYING), "NetworkPolicy"),
    "a ResourceQuota": ("deploy/quota.yaml", """apiVersion: v1
kind: ResourceQuota
metadata: {name: more}
spec: {hard: {pods: "1000"}}
""", ("v1", "ResourceQuota", "more", DEPLOYING), "ResourceQuota"),
}


def push_to_deploy(tekton, listeners, files: dict, message: str) -> tuple:
    """Commit FILES to the tenant's repository, deliver the push, wait for the run to succeed and run its deploy
    step as its container would (harness/platform/steps.py); returns (commit, run, the step's output)."""
    from harness.gitserver import publish
    from harness.platform.steps import run_on_host_steps

    api, info = tekton["api"], tekton["info"]
    commit = publish(info["git_root"], DEPLOYING_REPO, files, message)
    url, secret = listeners["acme"]
    answer = github.deliver(url, "push", github.push(DEPLOYING_REPO, commit, server=info["git_server"]), secret)
    run = created_run(api, answer)
    condition = succeeded(api, run)
    # Completed: succeeded with a task skipped (the build, the push naming no image).
    assert (condition["status"], condition["reason"]) == ("True", "Completed"), condition
    assert condition["message"] == "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 1", condition
    steps = run_on_host_steps(tekton["plane"], api, run, tekton["plane"].dir / "steps")
    assert list(steps) == ["deploy/step-apply-application"], list(steps)
    return commit, run, steps["deploy/step-apply-application"].stdout


def application(api) -> dict:
    return get(api, "argoproj.io/v1alpha1", "Application", DEPLOYING, DEPLOYING) or {}


def argocd_messages(app: dict) -> str:
    """Everything ArgoCD said about the app's last sync and its conditions."""
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    said = [operation.get("message", "")] + [r.get("message", "") for r in
                                             (operation.get("syncResult") or {}).get("resources") or []]
    said += [c.get("message", "") for c in status.get("conditions") or []]
    return "\n".join(m for m in said if m)


def test_a_push_deploys_the_pushed_commit_through_argocd_into_the_pipelines_namespace(tekton, listeners):
    api = tekton["api"]
    audit = AuditLog(tekton["plane"].audit_log)
    mark = audit.mark()
    commit, run, output = push_to_deploy(tekton, listeners, SHOP, "shop 1.0.0")
    assert f"application.argoproj.io/{DEPLOYING} serverside-applied" in output, output
    # The deploy step wrote the Application as the pipeline's own identity, and nobody else did.
    writers = {event.user for event in audit.writes(since=mark) if event.resource == "applications"
               and event.namespace == DEPLOYING}
    assert writers == {f"system:serviceaccount:{DEPLOYING}:pipeline-runner"}, writers

    def deployed():
        status = application(api).get("status") or {}
        return ((status.get("sync") or {}).get("status"), (status.get("health") or {}).get("status"),
                (status.get("sync") or {}).get("revision"))

    assert wait_for(lambda: deployed() == ("Synced", "Healthy", commit), timeout=180), (
        deployed(), argocd_messages(application(api)))
    app = application(api)
    assert app["spec"]["project"] == DEPLOYING and app["spec"]["source"]["repoURL"].endswith(f"/{DEPLOYING_REPO}.git")
    deployment = client.AppsV1Api(api).read_namespaced_deployment("shop", DEPLOYING)
    assert deployment.spec.template.spec.containers[0].image == "registry.example.test/acme/shop:1.0.0"
    assert deployment.status.ready_replicas == 2  # KWOK's pods, admitted by the namespace's Pod Security and quota
    assert client.CoreV1Api(api).read_namespaced_service("shop", DEPLOYING).spec.ports[0].port == 80


@pytest.mark.parametrize("case", list(OUT_OF_THE_BOX))
def test_a_push_that_would_leave_the_box_is_refused_by_argocd_and_nothing_of_it_lands(tekton, listeners, case):
    api = tekton["api"]
    path, text, (api_version, kind, name, namespace), named = OUT_OF_THE_BOX[case]
    commit, _run, _output = push_to_deploy(tekton, listeners, {**SHOP, path: text}, f"shop with {case}")

    def refused():
        # ArgoCD validates every object of the sync against the project before applying any; an automated sync
        # refused so is retried with back-off (phase Running, "Retrying attempt #N"), each attempt refused again.
        app = application(api)
        operation = (app.get("status") or {}).get("operationState") or {}
        revisions = {(operation.get("syncResult") or {}).get("revision"),
                     ((operation.get("operation") or {}).get("sync") or {}).get("revision")}
        return commit in revisions and "one or more synchronization tasks are not valid" in operation.get(
            "message", "")

    assert wait_for(refused, timeout=180), argocd_messages(application(api))
    said = argocd_messages(application(api))
    assert "not permitted in project" in said and named in said, said
    assert get(api, api_version, kind, name, namespace) is None
    # What was deployed before stays as it was.
    assert client.AppsV1Api(api).read_namespaced_deployment("shop", DEPLOYING).status.ready_replicas == 2


def test_a_pipeline_resolves_definitions_from_its_own_namespace_and_the_catalog_only(tekton):
    """Issue 23 item 3: Tekton's cluster resolver reads any namespace; the admission policy aphex-tenant-resolution
    refuses a tenant's ResolutionRequest for another one, so bolt's run cannot take acme's Pipeline."""
    api = tekton["api"]
    requests = dynamic.DynamicClient(api).resources.get(
        api_version="resolution.tekton.dev/v1beta1", kind="ResolutionRequest")

    def request(namespace: str) -> dict:
        return {"apiVersion": "resolution.tekton.dev/v1beta1", "kind": "ResolutionRequest",
                "metadata": {"generateName": "probe-", "namespace": "bolt-web",
                             "labels": {"resolution.tekton.dev/type": "cluster"}},
                "spec": {"params": [{"name": "kind", "value": "pipeline"}, {"name": "name", "value": "acme-web"},
                                    {"name": "namespace", "value": namespace}]}}

    # Refused whoever asks - the cluster admin here, Tekton's controller below.
    with pytest.raises(ApiException) as refused:
        requests.create(body=request("acme-web"), namespace="bolt-web")
    message = json.loads(refused.value.body)["message"]
    assert refused.value.status == 403 and "aphex-tenant-resolution" in message, message
    assert "may resolve Tekton definitions with the cluster resolver from its own namespace and pipeline-catalog " \
           "only, not from acme-web" in message, message
    allowed = requests.create(body=request("pipeline-catalog"), namespace="bolt-web").to_dict()
    requests.delete(name=allowed["metadata"]["name"], namespace="bolt-web")

    runs = dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="PipelineRun")
    borrowed = [{"name": "kind", "value": "pipeline"}, {"name": "name", "value": "acme-web"},
                {"name": "namespace", "value": "acme-web"}]
    run = runs.create(namespace="bolt-web", body={
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"generateName": "borrowed-", "namespace": "bolt-web"},
        "spec": {"pipelineRef": {"resolver": "cluster", "params": borrowed},
                 "params": [{"name": "git-url", "value": "https://github.com/bolt-corp/web.git"},
                            {"name": "git-revision", "value": "f7" * 20},
                            {"name": "repo-full-name", "value": ["bolt-corp/web"]}],
                 "taskRunTemplate": {"serviceAccountName": "pipeline-runner"}}}).to_dict()
    condition = succeeded(api, run)
    assert condition["status"] == "False" and "aphex-tenant-resolution" in condition["message"], condition
    assert not dynamic.DynamicClient(api).resources.get(api_version="tekton.dev/v1", kind="TaskRun").get(
        namespace="bolt-web", label_selector=f"tekton.dev/pipelineRun={run['metadata']['name']}").to_dict()["items"]


# Issue 23 item 5: organization secrets flow, through the real External Secrets controller (built from the chart's
# app version's source, run as the chart's ServiceAccount; harness/platform/stack.py).
ESO = "system:serviceaccount:external-secrets:external-secrets"


def external_secret(name: str, namespace: str, organization: str) -> dict:
    """What a tenant's repository would deploy (ArgoCD applies it with its own rights; the admin stands for it)."""
    return {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"refreshInterval": "5s",
                     "secretStoreRef": {"kind": "ClusterSecretStore", "name": f"org-{organization}-store"},
                     "target": {"name": name},
                     "data": [{"secretKey": "token", "remoteRef": {"key": "org-secrets", "property": "registry-token"}}]}}


def ready_condition(api, name: str, namespace: str) -> dict:
    found = get(api, "external-secrets.io/v1", "ExternalSecret", name, namespace) or {}
    return next((c for c in (found.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), {})


def test_an_organization_admin_fills_in_org_secrets_and_a_pipeline_gets_them_through_the_store(tekton):
    api, plane = tekton["api"], tekton["plane"]
    # The organization admin, with their own identity, writes the organization's secrets.
    admin = config.new_client_from_config(config_file=str(plane.add_user(sso_user("admin@acme.io"))))
    client.CoreV1Api(admin).patch_namespaced_secret("org-secrets", "org-acme", {
        "stringData": {"registry-token": "acme-registry-t0ken"}})
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(admin).patch_namespaced_secret("org-secrets", "org-bolt", {"stringData": {"x": "y"}})
    assert refused.value.status == 403
    # The organization's store serves them to an ExternalSecret in one of its pipeline namespaces.
    dynamic.DynamicClient(api).resources.get(api_version="external-secrets.io/v1", kind="ExternalSecret").create(
        body=external_secret("registry", "acme-web", "acme"), namespace="acme-web")
    assert wait_for(lambda: ready_condition(api, "registry", "acme-web").get("status") == "True", timeout=90), \
        ready_condition(api, "registry", "acme-web")
    written = client.CoreV1Api(api).read_namespaced_secret("registry", "acme-web")
    assert base64.b64decode(written.data["token"]) == b"acme-registry-t0ken"
    # Written by the controller as the chart's ServiceAccount, which read the organization's Secret as the store's
    # own (eso-secrets-reader, a token it asked the TokenRequest API for), through the API server's in-cluster name.
    audit = AuditLog(plane.audit_log)
    assert [e for e in audit.writes(user=ESO) if e.resource == "secrets" and e.namespace == "acme-web"]
    assert [e for e in audit.events(user="system:serviceaccount:org-acme:eso-secrets-reader")
            if e.resource == "secrets" and e.name == "org-secrets" and e.verb == "get"]
    assert "CONNECT kubernetes.default:443 HTTP/1.1" in {entry["request"] for entry in plane.egress_routed()}


def test_another_organizations_pipeline_is_refused_by_the_stores_conditions(tekton):
    api = tekton["api"]
    dynamic.DynamicClient(api).resources.get(api_version="external-secrets.io/v1", kind="ExternalSecret").create(
        body=external_secret("stolen", "bolt-web", "acme"), namespace="bolt-web")

    def refused():
        condition = ready_condition(api, "stolen", "bolt-web")
        return condition if condition.get("status") == "False" else None

    condition = wait_for(refused, timeout=60)
    assert condition, ready_condition(api, "stolen", "bolt-web")
    assert (condition["reason"], condition["message"]) == (
        "SecretSyncedError", "could not get secret data from provider"), condition
    # Why, in the controller's Event on the ExternalSecret.
    reason = 'using cluster store "org-acme-store" is not allowed from namespace "bolt-web": denied by spec.condition'

    def said():
        events = client.CoreV1Api(api).list_namespaced_event(
            "bolt-web", field_selector="involvedObject.kind=ExternalSecret,involvedObject.name=stolen").items
        return [event.message for event in events if reason in (event.message or "")]

    assert wait_for(said, timeout=30), client.CoreV1Api(api).list_namespaced_event(
        "bolt-web", field_selector="involvedObject.name=stolen").items
    assert get(api, "v1", "Secret", "stolen", "bolt-web") is None


def test_the_external_secrets_controller_dialled_nothing_off_loopback(tekton):
    plane = tekton["plane"]
    assert plane.egress_attempts() == []
    log = (plane.dir / "logs" / "external-secrets.log").read_text(errors="replace")
    assert "aphex-resolver: refused" not in log, [l for l in log.splitlines() if "aphex-resolver" in l][:5]
