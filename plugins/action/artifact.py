# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aphex.platform.artifact: a checksummed file placed on the target, from a controller-local copy (hashed on the
controller before anything is sent, so an air-gapped install downloads nothing and a wrong file is never placed) or
downloaded by the target with the same checksum. Documented in plugins/modules/artifact.py."""

from __future__ import annotations

import hashlib
import os
import re

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

SHA256 = re.compile(r"^[0-9a-f]{64}$")
PLACEMENT_ARGS = ("dest", "owner", "group", "mode")


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def problem_with(src: str, path: str | None, checksum: str) -> str | None:
    """Why the controller-local file (src as given, found at path) may not be placed, or None."""
    if path is None or not os.path.isfile(path):
        return f"{src} does not exist on the controller. Nothing was placed."
    if checksum:
        actual = file_sha256(path)
        if actual != checksum:
            return f"{src} has SHA-256 {actual}; expected {checksum}. Nothing was placed."
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(("src", "url", "checksum", "require_checksum", "name") + PLACEMENT_ARGS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = self._task.args
        src, url = args.get("src") or "", args.get("url") or ""
        checksum = str(args.get("checksum") or "").lower()
        name = args.get("name") or os.path.basename(str(args.get("dest") or src or url))
        error = self._argument_problem(args, src, url, checksum, name)
        if error:
            return {**result, "failed": True, "msg": error}
        placement = {key: args[key] for key in PLACEMENT_ARGS if args.get(key) is not None}
        if src:
            # the file the copy would send, found the way copy finds it (~, the role's files/, the playbook's)
            path = self._controller_path(src)
            error = problem_with(src, path, checksum)
            if error:
                return {**result, "failed": True, "msg": f"{name}: {error}"}
            found = {"source": "controller", "checksum": checksum, "sha256": checksum or file_sha256(path)}
            if self._in_place(path, placement):
                # the checked file is the one to place (an air-gapped cache on the controller): nothing to copy
                return {**result, "changed": False, "dest": placement["dest"], **found}
            return {**result, **self._copy(path, placement, task_vars), **found}
        module_args = {**placement, "url": url}
        if checksum:
            module_args["checksum"] = f"sha256:{checksum}"
        downloaded = self._execute_module("ansible.legacy.get_url", module_args=module_args, task_vars=task_vars)
        return {**result, **downloaded, "source": "download", "checksum": checksum}

    @staticmethod
    def _argument_problem(args, src, url, checksum, name):
        if not args.get("dest"):
            return f"{name}: dest is required"
        if not src and not url:
            return f"{name}: give src (a controller-local file) or url"
        if checksum and not SHA256.match(checksum):
            return f"{name}: checksum must be a SHA-256 (64 hex characters), not '{checksum}'"
        if not checksum and boolean(args.get("require_checksum", True), strict=True):
            return f"{name}: checksum is required: the SHA-256 (64 hex characters) its publisher lists"
        return None

    def _controller_path(self, src: str) -> str | None:
        try:
            return self._find_needle("files", os.path.expanduser(src))
        except AnsibleError:
            return None

    def _in_place(self, path: str, placement: dict) -> bool:
        """Whether placing would copy the controller's file onto itself: a local connection, dest that very file,
        and no owner, group or mode to set."""
        local = self._play_context.connection == "local" or self._connection.transport == "local"
        return local and set(placement) == {"dest"} and os.path.realpath(path) == os.path.realpath(
            os.path.expanduser(str(placement["dest"])))

    def _copy(self, src, placement, task_vars):
        copy_task = self._task.copy()
        copy_task.args.clear()
        copy_task.args.update({**placement, "src": src})
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy", task=copy_task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        return copy_action.run(task_vars=task_vars)
