"""Every invalid inventory is refused before anything is written, with a message naming tenant and field."""
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import (
    TenantValidationError, checked_apps_domain, checked_git_server_url, validate_tenants)

from tests.fixtures.invalid_tenants import CASES, org, pipe


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


@pytest.mark.parametrize("value, domain", [("", ""), ("Apps.Example.COM.", "apps.example.com"), ("a-1.b", "a-1.b")])
def test_the_apps_domain_is_a_dns_name_in_lower_case(value, domain):
    assert checked_apps_domain(value) == domain


@pytest.mark.parametrize("value", ["apps_example.com", "*.apps.example.com", "-a.example.com", "a..b", "x" * 64])
def test_an_apps_domain_that_is_not_a_dns_name_is_named(value):
    with pytest.raises(TenantValidationError) as refused:
        checked_apps_domain(value)
    assert refused.value.problems == [f"aphex_tenant_apps_domain: '{value}' is not a DNS name"]


@pytest.mark.parametrize("value, url", [("https://github.com", "https://github.com"),
                                        ("https://git.example.com:8443/scm/", "https://git.example.com:8443/scm"),
                                        ("http://127.0.0.1:8080", "http://127.0.0.1:8080")])
def test_the_git_server_is_an_http_url_kept_without_its_trailing_slash(value, url):
    assert checked_git_server_url(value) == url


@pytest.mark.parametrize("value", ["", "github.com", "git@github.com:org", "ftp://git.example.com", "https://",
                                   "https://git.example.com:http"])
def test_a_git_server_that_is_not_an_http_url_is_named(value):
    with pytest.raises(TenantValidationError) as refused:
        checked_git_server_url(value)
    [problem] = refused.value.problems
    assert problem.startswith("aphex_git_server_url: ") and "is not an http(s) URL of a Git server" in problem


@pytest.mark.parametrize("value", ["https://user:hunter2@git.example.com", "https://git.example.com?x=1",
                                   "https://git.example.com#main"])
def test_a_git_server_url_with_credentials_query_or_fragment_is_refused_without_echoing_it(value):
    with pytest.raises(TenantValidationError) as refused:
        checked_git_server_url(value)
    [problem] = refused.value.problems
    assert problem.startswith("aphex_git_server_url: the URL must name the server only")
    assert "hunter2" not in problem
