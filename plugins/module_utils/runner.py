# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every module of the collection runs: one runner owns the argument spec (the cluster connection options of
kubernetes.core and the collection's request timeout, for modules that reach a cluster), the check for the Python
libraries the module needs, the connection - made on first use, so that a module that validates only, or that
has nothing to ask the cluster, never connects - and the single error path: an AphexError raised anywhere below
ends the module with fail_json, its message and details, and the result as it stood. Nothing else calls fail_json.
Anything else escaping is a bug and keeps its traceback.

A module is its documentation and one call:

    def main():
        run_module({"holder": {"type": "str", "required": True}}, converge_the_lock)

where the body takes the run and returns the result for exit_json."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError


class MissingLibraryError(AphexError):
    """A Python library the module needs is not installed where the module runs."""

    def __init__(self, library: str, import_error: str):
        super().__init__(missing_required_lib(library), exception=import_error)


def require(library: str, import_error: str | None) -> None:
    """Fail naming the library when its import failed (import_error is the traceback, None when it imported)."""
    if import_error:
        raise MissingLibraryError(library, import_error)


class Run:
    """What a module body works with: the parameters, check and diff mode, warnings, the cluster (connected on
    first use) and the result so far (what a failure reports besides its message)."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.diff = module._diff
        self.result = {}
        self._api = None

    @property
    def api(self):
        """The cluster (kube/client.ClusterApi) the connection options name; connected once, on first use."""
        if self._api is None:
            # imported here: a module that reaches no cluster (gpu_facts, on a GPU host) never loads the client
            from ansible_collections.aphex.platform.plugins.module_utils.kube.args import connection_options
            from ansible_collections.aphex.platform.plugins.module_utils.kube.client import (
                KUBERNETES_IMPORT_ERROR, ClusterApi)

            require("kubernetes", KUBERNETES_IMPORT_ERROR)
            self._api = ClusterApi(**connection_options(self.params), request_timeout=self.params["request_timeout"])
        return self._api

    @property
    def connected(self) -> bool:
        return self._api is not None

    def warn(self, message: str) -> None:
        self.module.warn(message)

    def hide(self, value) -> None:
        """Mask the value wherever the module's result or messages would show it (a secret inside an option that
        is not no_log as a whole, so that the option's names stay readable in messages)."""
        if value not in (None, ""):
            self.module.no_log_values.add(str(value))


def run_module(argument_spec: dict, body, cluster: bool = True, **module_options) -> None:
    """Build the module (the cluster options first when `cluster`), run body(run) and exit with what it returns;
    an AphexError fails the module, the one place fail_json is called."""
    if cluster:
        from ansible_collections.aphex.platform.plugins.module_utils.kube.args import CLUSTER_ARGS

        argument_spec = {**CLUSTER_ARGS, **argument_spec}
    module = AnsibleModule(argument_spec=argument_spec,
                           **{"supports_check_mode": True, **module_options})
    run = Run(module)
    try:
        result = body(run)
    except AphexError as error:
        module.fail_json(msg=str(error), **{**run.result, **error.details})
    module.exit_json(**result)
