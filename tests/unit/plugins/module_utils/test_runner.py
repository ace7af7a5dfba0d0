"""The one module runner: the argument spec (with or without the cluster options), the library check, the
connection made only on first use, and the single error path - an AphexError of any concern becomes fail_json with
its message, the result so far and its details; anything else is a bug and keeps its traceback."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApiError
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import CatalogError
from ansible_collections.aphex.platform.plugins.module_utils.runner import require, run_module
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError

from tests.unit.fixtures.modules import run_main


@pytest.mark.parametrize("error, expected", [
    (ClusterApiError("Secret a/b: forbidden"), {"msg": "Secret a/b: forbidden", "holder": "me"}),
    (CatalogError("platform app 'x' is defined twice"), {"msg": "platform app 'x' is defined twice", "holder": "me"}),
    (TenantValidationError(["aphex_organizations[0]: must be a mapping"]),
     {"msg": "invalid tenant inventory:\n  - aphex_organizations[0]: must be a mapping", "holder": "me",
      "problems": ["aphex_organizations[0]: must be a mapping"]}),
])
def test_each_concerns_error_becomes_the_same_failure_with_the_result_so_far(error, expected):
    def body(run):
        run.result["holder"] = "me"  # the result as it stands when the error comes
        raise error

    result = run_main(lambda: run_module({}, body, cluster=False), {})
    assert isinstance(error, AphexError)
    assert result["failed"] is True
    assert {key: result[key] for key in expected} == expected


def test_anything_else_escapes_with_its_traceback():
    def body(_run):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_main(lambda: run_module({}, body, cluster=False), {})


def test_what_the_body_returns_is_the_result():
    def body(run):
        return {"changed": True, "said": run.params["name"]}

    result = run_main(lambda: run_module({"name": {"type": "str"}}, body, cluster=False), {"name": "x"})
    assert result["changed"] is True and result["said"] == "x" and "failed" not in result


def test_a_missing_library_is_named_with_its_import_error():
    result = run_main(lambda: run_module({}, lambda run: require("cloudflare", "Traceback: no module"),
                                         cluster=False), {})
    assert result["failed"] is True
    # the traceback goes to fail_json's `exception`, which Ansible shows at -vvv
    assert result["msg"].startswith("Failed to import the required Python library (cloudflare)")
    require("kubernetes", None)  # an import that worked passes


def test_the_cluster_is_connected_only_when_the_body_asks_for_it(tmp_path):
    missing = str(tmp_path / "absent.kubeconfig")
    untouched = run_main(lambda: run_module({}, lambda run: {"changed": False, "connected": run.connected}),
                         {"kubeconfig": missing})
    assert untouched == {"changed": False, "connected": False, "invocation": untouched["invocation"]}
    asked = run_main(lambda: run_module({}, lambda run: {"host": run.api.host}), {"kubeconfig": missing})
    assert asked["failed"] is True
    assert asked["msg"] == f"cannot connect to the cluster: no kubeconfig absent.kubeconfig in {tmp_path} " \
                           "(option kubeconfig (or K8S_AUTH_KUBECONFIG))"


def test_cluster_options_belong_to_cluster_modules_only():
    result = run_main(lambda: run_module({}, lambda run: {}, cluster=False), {"kubeconfig": "/x"})
    assert result["failed"] is True and "kubeconfig" in result["msg"]
    result = run_main(lambda: run_module({}, lambda run: {"timeout": run.params["request_timeout"]}), {})
    assert result["timeout"] == 30


def test_check_and_diff_mode_reach_the_body():
    def body(run):
        return {"check": run.check_mode, "diff": run.diff}

    result = run_main(lambda: run_module({}, body, cluster=False), {}, check_mode=True, diff=True)
    assert (result["check"], result["diff"]) == (True, True)
