"""The aphex.io CRDs repeat two facts of naming.py in their CEL rules (the API server cannot import Python): they must
stay equal."""
from __future__ import annotations

import ast
import re

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.naming import RESERVED_NAMES
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import EMAIL
from harness import REPO

CRDS = sorted((REPO / "files" / "crds").glob("*.yaml"))


def rules(path):
    document = yaml.safe_load(path.read_text())
    return [rule["rule"] for rule in document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            .get("x-kubernetes-validations", [])]


@pytest.mark.parametrize("path", CRDS, ids=lambda p: p.name)
def test_the_reserved_names_are_naming_pys(path):
    [reserved] = [rule for rule in rules(path) if "kube-system" in rule]
    listed = ast.literal_eval(re.search(r"\[[^\]]*\]", reserved).group(0))
    assert tuple(listed) == RESERVED_NAMES


def test_an_admins_email_is_checked_with_validation_pys_pattern():
    document = yaml.safe_load((REPO / "files" / "crds" / "aphex.io_organizations.yaml").read_text())
    spec = document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["adminUsers"]["items"]["pattern"] == EMAIL.pattern
