# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tenant controller does on each event, in Kopf's terms. The work itself is
plugins/module_utils/tenancy/self_service.py (the Reconciler in `memo.reconciler`, made by __main__.py).

- created, changed, or found on start (resume): converge, write the status;
- every `drift_interval` seconds (a timer): converge again, so that an edited or deleted object of the tenant is
  repaired without anyone running Ansible; at rest that is reads only;
- deleted: remove what the tenant owns, then let Kopf drop its finalizer.

Objects of the inventory (onboard.yml's records) are not the controller's and never reach a handler (`when`)."""

from __future__ import annotations

import copy
import logging
import os

import kopf

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.self_service import (
    CONTROLLER_LABELS,
    SelfServiceError,
    self_service,
    status,
    status_changed,
)

GROUP, VERSION = "aphex.io", "v1alpha1"
# Kopf's own bookkeeping on the objects it handles, under the platform's label prefix
PREFIX = "platform.aphex"
FINALIZER = f"{PREFIX}/tenant-controller"
# Seconds between two converges of a tenant at rest; __main__.py sets it from --drift-interval before importing this.
DRIFT_INTERVAL = float(os.environ.get("APHEX_CONTROLLER_DRIFT_INTERVAL", "60"))


def _owned(body, **_) -> bool:
    return self_service(body)


def _plain(body) -> dict:
    """Kopf's read-only view of an object as the plain dict the reconciler reads."""
    return copy.deepcopy({key: body[key] for key in body})


def _write_status(body: dict, patch, wanted: dict) -> None:
    if status_changed(body, wanted):
        patch.status.update(wanted)


def _converge(body, patch, work) -> None:
    """Run WORK (one reconcile: its status when Ready), mark the object as the controller's, write its status when it
    changed, and turn a SelfServiceError into Kopf's retry (or, for a spec that is wrong, none until it changes)."""
    plain = _plain(body)
    labels = plain["metadata"].get("labels") or {}
    if any(labels.get(key) != value for key, value in CONTROLLER_LABELS.items()):
        patch.metadata.labels.update(CONTROLLER_LABELS)
    try:
        wanted = work(plain)
    except SelfServiceError as error:
        _write_status(plain, patch, status(plain, False, error.reason, str(error), error.waiting,
                                           **{key: value for key, value in (plain.get("status") or {}).items()
                                              if key in ("namespace", "webhookURL")}))
        if error.retry is None:
            raise kopf.PermanentError(f"{error.reason}: {error}") from None
        raise kopf.TemporaryError(f"{error.reason}: {error}", delay=error.retry) from None
    _write_status(plain, patch, wanted)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo, **_) -> None:
    settings.peering.standalone = True  # one replica (Deployment strategy Recreate); the run lock guards the rest
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    # The controller's own marks are no change of the object: marking it would otherwise converge it twice.
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, ignored_fields=[("metadata", "labels", label) for label in CONTROLLER_LABELS])
    settings.posting.level = logging.WARNING  # Events on the objects: what went wrong, not every success
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.execution.max_workers = memo.workers
    try:
        memo.reconciler.publish_quota()
    except AphexError as error:
        raise kopf.TemporaryError(f"cannot publish the quota for RepoBindings: {error}", delay=10) from None


# What each kind's events call on the Reconciler: converge it (created, changed, found on start, and on the drift
# timer) or remove it (deleted).
RECONCILES = {"organizations": ("organization", "delete_organization"),
              "repobindings": ("repo_binding", "delete_repo_binding")}


def _register(plural: str, converge: str, remove: str) -> None:
    def converged(body, patch, memo, **_) -> None:
        _converge(body, patch, getattr(memo.reconciler, converge))

    def drifted(body, patch, memo, **_) -> None:
        _converge(body, patch, lambda plain: getattr(memo.reconciler, converge)(plain, drift=True))

    def removed(body, patch, memo, **_) -> None:
        _converge(body, patch, lambda plain: getattr(memo.reconciler, remove)(plain) or plain.get("status") or {})

    for cause in (kopf.on.resume, kopf.on.create, kopf.on.update):
        cause(GROUP, VERSION, plural, when=_owned, id=converge)(converged)
    kopf.timer(GROUP, VERSION, plural, when=_owned, id=f"{converge}_drift", interval=DRIFT_INTERVAL,
               initial_delay=DRIFT_INTERVAL)(drifted)
    kopf.on.delete(GROUP, VERSION, plural, when=_owned, id=remove)(removed)


for _plural, (_converge_with, _remove_with) in RECONCILES.items():
    _register(_plural, _converge_with, _remove_with)
