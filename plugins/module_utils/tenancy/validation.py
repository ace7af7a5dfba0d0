# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate the whole tenant inventory before anything is written.

Every problem is collected, each naming the tenant and the field, so one run
shows all of them.
"""

from __future__ import annotations

import copy
import functools
import re
from urllib.parse import urlsplit

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    DNS_LABEL,
    ORG_NAME_MAX,
    PIPELINE_NAME_MAX,
    TEKTON_V1,
    reserved_conflict,
)
from ansible_collections.aphex.platform.plugins.module_utils.quantity import quantity

# '%' and '/' are left out: the address becomes part of a RoleBinding name (a path segment).
EMAIL = re.compile(r"^[A-Za-z0-9.!#$&'*+=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$")
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
STATES = ("present", "absent")
DISPLAY_NAME_MAX = 256
QUOTA_KEYS = ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "persistentvolumeclaims", "pods",
              "requests.storage", "services", "configmaps", "secrets")

ORG_FIELDS = ("name", "display_name", "admin_users", "state", "rotate_webhook_secret", "cascade")
PIPELINE_FIELDS = ("name", "organization", "repo", "pipeline", "quota", "state", "isolation", "pull_requests")
# whose pull requests run the pipeline (render.PULL_REQUEST_AUTHORS says who each is)
PULL_REQUEST_CHOICES = ("trusted", "all", "none")
# Fields read as truth values: converted the way Ansible converts booleans, so that a quoted "false" means false.
ORG_BOOLEANS = ("rotate_webhook_secret", "cascade")
PIPELINE_BOOLEANS = ("isolation",)


class TenantValidationError(AphexError):
    """Raised with every problem found; the message lists them one per line."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("invalid tenant inventory:\n" + "\n".join(f"  - {p}" for p in problems), problems=problems)


def _name_problems(where: str, name, limit: int) -> list:
    if not isinstance(name, str) or not name:
        return [f"{where}.name: required, a DNS label"]
    problems = []
    if len(name) > limit:
        problems.append(f"{where}.name: '{name}' is {len(name)} characters, at most {limit} allowed")
    if not DNS_LABEL.match(name):
        problems.append(f"{where}.name: '{name}' is not a DNS label (lowercase letters, digits and '-', "
                        "starting and ending with a letter or digit)")
    reserved = reserved_conflict(name)
    if reserved:
        problems.append(f"{where}.name: '{name}' is reserved for the platform ('{reserved}')")
    return problems


def _unknown_fields(where: str, entry: dict, known) -> list:
    return [f"{where}.{field}: unknown field (known: {', '.join(known)})" for field in entry if field not in known]


def _state_problems(where: str, entry: dict) -> list:
    state = entry.get("state", "present")
    return [] if state in STATES else [f"{where}.state: '{state}' must be one of {', '.join(STATES)}"]


def _booleans(where: str, entry: dict, fields, problems: list) -> None:
    """Replace each boolean-like field of entry by its bool, or record why it is not one."""
    for name in fields:
        if name not in entry:
            continue
        try:
            entry[name] = boolean(entry[name], strict=True)
        except TypeError:
            problems.append(f"{where}.{name}: {entry[name]!r} is not a boolean (true/false, yes/no, on/off, 1/0)")


def _entries(variable: str, entries, fields, name_limit: int, duplicate: str, problems: list):
    """Check what every tenant entry shares (shape, fields, name, state, uniqueness); yield (where, entry)."""
    seen = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"{variable}[{index}]: must be a mapping")
            continue
        name = entry.get("name")
        where = f"{variable}[{name if isinstance(name, str) and name else index}]"
        problems += _unknown_fields(where, entry, fields)
        problems += _name_problems(where, name, name_limit)
        if name in seen:
            problems.append(f"{where}.name: '{name}' {duplicate}")
        seen.add(name)
        problems += _state_problems(where, entry)
        _booleans(where, entry, ORG_BOOLEANS if variable == "aphex_organizations" else PIPELINE_BOOLEANS, problems)
        yield where, entry


def validate_organizations(organizations, references_only=False) -> list:
    """Every problem of the organizations; with references_only, only what the pipelines refer to (entry shape,
    name, state), for the module that converges pipelines."""
    problems = []
    if not isinstance(organizations, list):
        return ["aphex_organizations: must be a list"]
    for where, org in _entries("aphex_organizations", organizations, ORG_FIELDS, ORG_NAME_MAX, "is listed twice",
                               problems):
        if references_only or org.get("state", "present") == "absent":
            continue
        display_name = org.get("display_name")
        if not isinstance(display_name, str) or not display_name.strip():
            problems.append(f"{where}.display_name: required, a non-empty string")
        elif len(display_name) > DISPLAY_NAME_MAX:
            problems.append(f"{where}.display_name: {len(display_name)} characters, at most {DISPLAY_NAME_MAX} allowed")
        admins = org.get("admin_users")
        if not isinstance(admins, list) or not admins:
            problems.append(f"{where}.admin_users: required, a list of at least one email address")
            continue
        emails = set()
        for position, user in enumerate(admins):
            if not isinstance(user, str) or not EMAIL.match(user):
                problems.append(f"{where}.admin_users[{position}]: '{user}' is not a valid email address")
            elif user.lower() in emails:
                problems.append(f"{where}.admin_users[{position}]: '{user}' is listed twice")
            else:
                emails.add(user.lower())
    return problems


@functools.lru_cache(maxsize=256)
def parsed_pipeline(text: str):
    """A pipeline's YAML, parsed once per distinct text: validation and rendering both need it, and many
    pipelines share one definition. Callers do not change what it returns."""
    from ansible.module_utils.common.yaml import yaml_load

    return yaml_load(text)


def _pipeline_document_problems(where: str, document) -> list:
    """The Pipeline YAML must parse and be a tekton.dev/v1 Pipeline."""
    if isinstance(document, str):
        try:
            document = parsed_pipeline(document)
        except Exception as error:  # any YAML error is the user's input problem
            return [f"{where}.pipeline: not valid YAML ({str(error).splitlines()[0]})"]
    if not isinstance(document, dict):
        return [f"{where}.pipeline: required, a tekton.dev/v1 Pipeline (YAML text or mapping)"]
    problems = []
    if document.get("apiVersion") != TEKTON_V1:
        problems.append(f"{where}.pipeline: apiVersion is '{document.get('apiVersion')}', expected '{TEKTON_V1}'")
    if document.get("kind") != "Pipeline":
        problems.append(f"{where}.pipeline: kind is '{document.get('kind')}', expected 'Pipeline'")
    if not isinstance(document.get("spec"), dict):
        problems.append(f"{where}.pipeline: spec is missing")
    return problems


def quota_problems(where: str, quota) -> list:
    if not isinstance(quota, dict):
        return [f"{where}: must be a mapping of quota keys to quantities"]
    problems = []
    for key, value in quota.items():
        amount = quantity(value)
        if key not in QUOTA_KEYS:
            problems.append(f"{where}.{key}: unknown quota key (known: {', '.join(QUOTA_KEYS)})")
        elif amount is None or amount < 0:
            problems.append(f"{where}.{key}: '{value}' is not a Kubernetes quantity")
    return problems


def validate_pipelines(pipelines, organizations, references_only=False) -> list:
    """Every problem of the pipelines; with references_only, only what an organization needs of them (entry shape,
    name, organization, state), for the module that converges organizations."""
    problems = []
    if not isinstance(pipelines, list):
        return ["aphex_pipelines: must be a list"]
    org_states = {org.get("name"): org.get("state", "present") for org in organizations if isinstance(org, dict)}
    duplicate = "is used by another pipeline; names are unique across the inventory"
    for where, pipeline in _entries("aphex_pipelines", pipelines, PIPELINE_FIELDS, PIPELINE_NAME_MAX, duplicate,
                                    problems):
        name = pipeline.get("name")
        if isinstance(name, str) and name.startswith("org-"):
            problems.append(f"{where}.name: '{name}' starts with 'org-', which organization namespaces use")
        organization = pipeline.get("organization")
        present = pipeline.get("state", "present") == "present"
        if organization not in org_states:
            problems.append(f"{where}.organization: '{organization}' is not in aphex_organizations")
        elif present and org_states[organization] == "absent":
            problems.append(f"{where}.organization: '{organization}' is being removed (state: absent)")
        if references_only or not present:
            continue
        repo = pipeline.get("repo")
        owner, _slash, repo_name = repo.partition("/") if isinstance(repo, str) else ("", "", "")
        if not (GITHUB_OWNER.match(owner) and GITHUB_REPO.match(repo_name)) or repo_name in (".", ".."):
            problems.append(f"{where}.repo: '{repo}' must be a GitHub repository as owner/name")
        problems += _pipeline_document_problems(where, pipeline.get("pipeline"))
        if pipeline.get("pull_requests", "trusted") not in PULL_REQUEST_CHOICES:
            problems.append(f"{where}.pull_requests: '{pipeline['pull_requests']}' must be one of "
                            f"{', '.join(PULL_REQUEST_CHOICES)}")
        problems += quota_problems(f"{where}.quota", pipeline.get("quota", {}))
    return problems


def validate_tenants(organizations, pipelines, default_quota=None, subject=None) -> tuple:
    """The inventory's tenants with boolean fields made bools (copies), or TenantValidationError naming every
    problem. subject "organizations" or "pipelines": that list in full, the other one only where it is referred to
    (each module answers for what it converges); None: both in full (the role's first step)."""
    organizations, pipelines = copy.deepcopy(organizations), copy.deepcopy(pipelines)
    problems = validate_organizations(organizations, references_only=subject == "pipelines")
    problems += validate_pipelines(pipelines, organizations or [], references_only=subject == "organizations")
    problems += quota_problems("quota", default_quota or {})
    if problems:
        raise TenantValidationError(problems)
    return organizations, pipelines


def checked_git_server_url(value) -> str:
    """The tenants' Git server (aphex_git_server_url) without a trailing slash; refused, naming the variable, unless
    it is an http(s) URL of a host without credentials, query or fragment: ArgoCD deploys from below it only."""
    text = str(value or "").strip().rstrip("/")
    try:
        url = urlsplit(text)
        url.port  # pylint: disable=pointless-statement  # raises on a port that is not a number
    except ValueError:
        url = None
    if url is None or url.scheme not in ("https", "http") or not url.hostname:
        shown = "(a URL with credentials)" if "@" in text else f"'{value}'"
        raise TenantValidationError([f"aphex_git_server_url: {shown} is not an http(s) URL of a Git server "
                                     "(such as https://github.com)"])
    if url.username is not None or url.password is not None or url.query or url.fragment or "?" in text or "#" in text:
        raise TenantValidationError(["aphex_git_server_url: the URL must name the server only - no credentials (the "
                                     "repository credentials belong in ArgoCD), query or fragment"])
    return text


def checked_apps_domain(value) -> str:
    """The tenants' apps zone (aphex_tenant_apps_domain), lower case without a trailing dot; refused, naming the
    variable, when it is not a DNS name: it becomes part of every host a tenant may route."""
    domain = str(value or "").lower().rstrip(".")
    if domain and (len(domain) > 200 or not all(DNS_LABEL.match(part) and len(part) <= 63 for part in domain.split("."))):
        raise TenantValidationError([f"aphex_tenant_apps_domain: '{value}' is not a DNS name"])
    return domain
