"""How one reconcile's outcome becomes Kopf's: the object marked as the controller's, its status written only when it
changes, a retry for what comes by itself and none for a spec that is wrong."""
from __future__ import annotations

import kopf
import pytest

from ansible_collections.aphex.platform.controller import handlers
from ansible_collections.aphex.platform.plugins.module_utils.naming import (
    DRIVER_CONTROLLER, LABEL_DRIVER, LABEL_MANAGED_BY, MANAGED_BY)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.self_service import SelfServiceError, status


def body(labels=None, current=None):
    found = {"metadata": {"name": "web", "namespace": "org-acme", "generation": 2, "labels": labels or {}},
             "spec": {"aphexOrg": "acme"}}
    if current:
        found["status"] = current
    return found


def test_a_converged_object_is_marked_as_the_controllers_and_gets_its_status():
    patch = kopf.Patch()
    handlers._converge(body(), patch, lambda plain: status(plain, True, "Converged", "ok", namespace="web"))
    assert patch["metadata"]["labels"] == {LABEL_MANAGED_BY: MANAGED_BY, LABEL_DRIVER: DRIVER_CONTROLLER}
    assert patch["status"]["phase"] == "Ready" and patch["status"]["observedGeneration"] == 2


def test_an_object_at_rest_gets_no_patch_at_all():
    marked = {LABEL_MANAGED_BY: MANAGED_BY, LABEL_DRIVER: DRIVER_CONTROLLER}
    current = status(body(), True, "Converged", "ok", namespace="web")
    patch = kopf.Patch()
    handlers._converge(body(marked, current), patch,
                       lambda plain: status(plain, True, "Converged", "ok", namespace="web"))
    assert not patch


@pytest.mark.parametrize("error, raised", [
    (SelfServiceError("WaitingForRunLock", "held", retry=3, waiting=True), kopf.TemporaryError),
    (SelfServiceError("RepositoryAlreadyBound", "bound", retry=None), kopf.PermanentError),
])
def test_a_refusal_is_written_to_the_status_and_retried_only_when_it_can_pass(error, raised):
    patch = kopf.Patch()
    current = status(body(), True, "Converged", "ok", namespace="web", webhookURL="https://acme.hooks.test")

    def refuse(_plain):
        raise error
    with pytest.raises(raised):
        handlers._converge(body(current=current), patch, refuse)
    written = patch["status"]
    assert written["conditions"][0]["reason"] == error.reason
    assert written["phase"] == ("Pending" if error.waiting else "Failed")
    assert written["webhookURL"] == "https://acme.hooks.test"  # what it had is kept


def test_the_inventorys_records_never_reach_a_handler():
    assert not handlers._owned(body({LABEL_MANAGED_BY: MANAGED_BY}))
    assert handlers._owned(body())
