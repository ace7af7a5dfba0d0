"""Every invalid inventory is refused before anything is written, with a message naming tenant and field."""
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError, validate_tenants

PIPELINE = "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: x}\nspec: {tasks: []}\n"


def org(**overrides):
    return {"name": "acme", "display_name": "ACME", "admin_users": ["admin@acme.io"], **overrides}


def pipe(**overrides):
    return {"name": "acme-web", "organization": "acme", "repo": "acme-corp/web", "pipeline": PIPELINE, **overrides}


CASES = [
    ("org name uppercase", [org(name="Acme")], [], "aphex_organizations[Acme].name: 'Acme' is not a DNS label"),
    ("org name underscore", [org(name="ac_me")], [], "aphex_organizations[ac_me].name: 'ac_me' is not a DNS label"),
    ("org name leading dash", [org(name="-acme")], [], "aphex_organizations[-acme].name: '-acme' is not a DNS label"),
    ("org name too long", [org(name="a" * 60)], [], f"aphex_organizations[{'a' * 60}].name: '{'a' * 60}' is 60 characters, at most 59 allowed"),
    ("org name missing", [org(name="")], [], "aphex_organizations[0].name: required, a DNS label"),
    ("org name reserved", [org(name="kube-system")], [], "aphex_organizations[kube-system].name: 'kube-system' is reserved for the platform ('kube-system')"),
    ("org name reserved prefix", [org(name="argocd-team")], [], "aphex_organizations[argocd-team].name: 'argocd-team' is reserved for the platform ('argocd')"),
    ("org listed twice", [org(), org()], [], "aphex_organizations[acme].name: 'acme' is listed twice"),
    ("org display name missing", [org(display_name="  ")], [], "aphex_organizations[acme].display_name: required, a non-empty string"),
    ("org display name too long", [org(display_name="x" * 257)], [], "aphex_organizations[acme].display_name: 257 characters, at most 256 allowed"),
    ("org without admins", [org(admin_users=[])], [], "aphex_organizations[acme].admin_users: required, a list of at least one email address"),
    ("org admin not an email", [org(admin_users=["admin"])], [], "aphex_organizations[acme].admin_users[0]: 'admin' is not a valid email address"),
    ("org admin with a slash", [org(admin_users=["a/b@acme.io"])], [], "aphex_organizations[acme].admin_users[0]: 'a/b@acme.io' is not a valid email address"),
    ("org admin twice", [org(admin_users=["a@acme.io", "A@acme.io"])], [], "aphex_organizations[acme].admin_users[1]: 'A@acme.io' is listed twice"),
    ("org bad state", [org(state="gone")], [], "aphex_organizations[acme].state: 'gone' must be one of present, absent"),
    ("org unknown field", [org(admins=["x@y.io"])], [], "aphex_organizations[acme].admins: unknown field"),
    ("pipeline name uppercase", [org()], [pipe(name="Web")], "aphex_pipelines[Web].name: 'Web' is not a DNS label"),
    ("pipeline name too long", [org()], [pipe(name="p" * 62)], f"aphex_pipelines[{'p' * 62}].name: '{'p' * 62}' is 62 characters, at most 61 allowed"),
    ("pipeline name reserved", [org()], [pipe(name="tekton-pipelines")],
     "aphex_pipelines[tekton-pipelines].name: 'tekton-pipelines' is reserved for the platform ('tekton-pipelines')"),
    ("pipeline name like an org namespace", [org()], [pipe(name="org-acme")], "aphex_pipelines[org-acme].name: 'org-acme' starts with 'org-'"),
    ("pipeline names collide", [org()], [pipe(), pipe(repo="acme-corp/api")], "aphex_pipelines[acme-web].name: 'acme-web' is used by another pipeline"),
    ("pipeline org unknown", [org()], [pipe(organization="nope")], "aphex_pipelines[acme-web].organization: 'nope' is not in aphex_organizations"),
    ("pipeline org being removed", [org(state="absent")], [pipe()], "aphex_pipelines[acme-web].organization: 'acme' is being removed (state: absent)"),
    ("repo without owner", [org()], [pipe(repo="web")], "aphex_pipelines[acme-web].repo: 'web' must be a GitHub repository as owner/name"),
    ("repo with bad owner", [org()], [pipe(repo="-acme/web")], "aphex_pipelines[acme-web].repo: '-acme/web' must be a GitHub repository as owner/name"),
    ("repo with spaces", [org()], [pipe(repo="acme/my web")], "aphex_pipelines[acme-web].repo: 'acme/my web' must be a GitHub repository as owner/name"),
    ("pipeline YAML broken", [org()], [pipe(pipeline="kind: [unclosed")], "aphex_pipelines[acme-web].pipeline: not valid YAML"),
    ("pipeline missing", [org()], [pipe(pipeline=None)], "aphex_pipelines[acme-web].pipeline: required, a tekton.dev/v1 Pipeline"),
    ("pipeline wrong version", [org()], [pipe(pipeline=PIPELINE.replace("tekton.dev/v1", "tekton.dev/v1beta1"))],
     "aphex_pipelines[acme-web].pipeline: apiVersion is 'tekton.dev/v1beta1', expected 'tekton.dev/v1'"),
    ("pipeline wrong kind", [org()], [pipe(pipeline=PIPELINE.replace("kind: Pipeline", "kind: Task"))],
     "aphex_pipelines[acme-web].pipeline: kind is 'Task', expected 'Pipeline'"),
    ("pipeline without spec", [org()], [pipe(pipeline="apiVersion: tekton.dev/v1\nkind: Pipeline\n")], "aphex_pipelines[acme-web].pipeline: spec is missing"),
    ("quota unknown key", [org()], [pipe(quota={"gpus": "1"})], "aphex_pipelines[acme-web].quota.gpus: unknown quota key"),
    ("quota bad quantity", [org()], [pipe(quota={"limits.cpu": "lots"})], "aphex_pipelines[acme-web].quota.limits.cpu: 'lots' is not a Kubernetes quantity"),
    ("isolation not a bool", [org()], [pipe(isolation="yes please")],
     "aphex_pipelines[acme-web].isolation: 'yes please' is not a boolean"),
    ("cascade not a bool", [org(state="absent", cascade="if needed")], [],
     "aphex_organizations[acme].cascade: 'if needed' is not a boolean"),
    ("rotation not a bool", [org(rotate_webhook_secret="yes please")], [],
     "aphex_organizations[acme].rotate_webhook_secret: 'yes please' is not a boolean"),
    ("rotation a list", [org(rotate_webhook_secret=["yes"])], [],
     "aphex_organizations[acme].rotate_webhook_secret: ['yes'] is not a boolean"),
]


@pytest.mark.parametrize("organizations, pipelines, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_inventory_is_refused_with_a_field_specific_message(organizations, pipelines, message):
    with pytest.raises(TenantValidationError) as refused:
        validate_tenants(organizations, pipelines)
    assert any(problem.startswith(message) for problem in refused.value.problems), refused.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(TenantValidationError) as refused:
        validate_tenants([org(name="Bad"), org(name="acme", admin_users=["nope"])],
                         [pipe(repo="x"), pipe(name="other", organization="ghost")], {"pods": "many"})
    problems = refused.value.problems
    assert len(problems) == 5, problems
    assert problems[-1] == "quota.pods: 'many' is not a Kubernetes quantity"
    assert str(refused.value).startswith("invalid tenant inventory:\n  - aphex_organizations[Bad].name")


def test_a_valid_inventory_passes():
    validate_tenants([org(), org(name="bolt", state="absent", cascade=True)],
                     [pipe(quota={"limits.cpu": "16", "requests.memory": "32Gi"}, isolation=False),
                      pipe(name="bolt-api", organization="bolt", state="absent")])


def test_email_rules_accept_ordinary_addresses():
    validate_tenants([org(admin_users=["first.last+ci@sub.acme-corp.io", "o'neil@acme.io"])], [])


@pytest.mark.parametrize("text, expected", [
    ("false", False), ("False", False), ("NO", False), ("no", False), ("0", False), (0, False), ("off", False),
    ("true", True), ("Yes", True), ("1", True), (1, True), ("on", True), (True, True), (False, False)])
def test_boolean_fields_are_converted_the_way_ansible_converts_booleans(text, expected):
    """Issue 11 item 2: quoted booleans ("false", "no") were used as truth values, so cascade: "false" cascaded and
    rotate_webhook_secret: "no" rotated on every run. Every boolean field is now a real bool after validation."""
    organizations, pipelines = validate_tenants(
        [org(rotate_webhook_secret=text), org(name="bolt", state="absent", cascade=text)],
        [pipe(isolation=text)])
    assert organizations[0]["rotate_webhook_secret"] is expected
    assert organizations[1]["cascade"] is expected
    assert pipelines[0]["isolation"] is expected


def test_validation_leaves_the_callers_entries_untouched():
    entries = [org(rotate_webhook_secret="no")]
    validate_tenants(entries, [])
    assert entries[0]["rotate_webhook_secret"] == "no"


def test_each_module_answers_for_what_it_converges_and_checks_only_the_references_of_the_other():
    bad_org, bad_pipeline = org(admin_users=["not-an-email"]), pipe(repo="no slash")
    # the pipeline module is not the place to refuse an organization's admin list, nor the other way round
    validate_tenants([bad_org], [pipe()], subject="pipelines")
    validate_tenants([org()], [bad_pipeline], subject="organizations")
    for subject, organizations, pipelines, problem in (
            ("organizations", [bad_org], [pipe()], "aphex_organizations[acme].admin_users[0]"),
            ("pipelines", [org()], [bad_pipeline], "aphex_pipelines[acme-web].repo"),
            ("pipelines", [org(name="Acme")], [pipe()], "aphex_organizations[Acme].name"),
            ("organizations", [org()], [pipe(organization="ghost")], "aphex_pipelines[acme-web].organization"),
            (None, [bad_org], [bad_pipeline], "aphex_pipelines[acme-web].repo")):
        with pytest.raises(TenantValidationError) as refused:
            validate_tenants(organizations, pipelines, subject=subject)
        assert any(p.startswith(problem) for p in refused.value.problems), (subject, refused.value.problems)


@pytest.mark.parametrize("value", ["NaN", "inf", "Infinity", "1K", "1e3Mi", "1_000", " 5", "-1", "１"])
def test_a_quota_the_api_server_would_refuse_is_refused_here_first(value):
    with pytest.raises(TenantValidationError) as refused:
        validate_tenants([org()], [pipe(quota={"limits.cpu": value})])
    assert refused.value.problems == [f"aphex_pipelines[acme-web].quota.limits.cpu: '{value}' is not a Kubernetes quantity"]


@pytest.mark.parametrize("value", ["500m", "2", "4Gi", "1e3", ".5", "+1", 3])
def test_quotas_in_every_form_the_api_server_takes_pass(value):
    validate_tenants([org()], [pipe(quota={"limits.cpu": value})])
