"""The platform's generated secrets: every problem of a request named per key before anything is read, the role's
own secrets valid, generated values of the asked form. Kept, copied and never rotated against the real API server:
tests/integration/test_bootstrap.py."""
from __future__ import annotations

import base64
import re
import string

import pytest
import yaml
from ansible_collections.aphex.platform.plugins.module_utils.platform.secrets import SecretSpecError, converge, generate, validate

from harness import REPO


@pytest.mark.parametrize("spec, message", [
    ({"name": "s", "namespace": "Bad", "keys": {"k": {"generate": "hex"}}}, "not a valid namespace name"),
    ({"name": "s", "namespace": "ns", "keys": {}}, "keys is empty"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "uuid"}}}, "generate must be one of"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "hex", "length": 4}}}, "length must be an integer"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"generate": "hex", "value": "v"}}}, "exactly one of"),
    ({"name": "s", "namespace": "ns", "keys": {"k": {"copy": {"name": "other", "key": "x"}}}},
     "copy must name a key .* of a secret listed before this one"),
    ({"name": "s", "namespace": "ns", "keys": {"bad key": {"value": "v"}}}, "keys are letters, digits"),
])
def test_secret_specs_are_validated_per_key(spec, message):
    problems = validate([spec])
    assert any(re.search(message, problem) for problem in problems), problems


def test_platform_secret_defaults_are_valid():
    variables = yaml.safe_load((REPO / "roles/platform/vars/main.yml").read_text())
    assert validate(variables["platform_generated_secrets"]) == []


@pytest.mark.parametrize("spec, check", [
    ({"generate": "hex"}, lambda v: len(v) == 64 and set(v) <= set(string.hexdigits.lower())),
    ({"generate": "base64", "length": 16}, lambda v: len(base64.b64decode(v)) == 16),
    ({"generate": "alphanumeric", "length": 40}, lambda v: len(v) == 40 and v.isalnum()),
])
def test_generated_values_have_the_asked_form_and_differ(spec, check):
    first, second = generate(spec), generate(spec)
    assert check(first) and first != second


def test_an_invalid_request_never_asks_for_the_cluster():
    def connect():
        raise AssertionError("connected")

    with pytest.raises(SecretSpecError, match="^invalid secrets: secret ns/s: keys is empty$"):
        converge(connect, [{"name": "s", "namespace": "ns", "keys": {}}], check_mode=False)
