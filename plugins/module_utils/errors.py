# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error base of the collection. Code below the modules raises an AphexError (or a subclass naming its
concern) with a message that says what is wrong and what to do; every module turns it into fail_json the same way,
once, at the top (`failing_on`). Anything else escaping is a bug and keeps its traceback."""

from __future__ import annotations

from contextlib import contextmanager


class AphexError(Exception):
    """A failure the user can act on. `details` become extra keys of the module's failed result (e.g. `problems`)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


@contextmanager
def failing_on(module, result=None):
    """Run the module's body; an AphexError ends the module with fail_json(msg, **result, **details), `result` as
    it stands when the error comes."""
    try:
        yield
    except AphexError as error:
        module.fail_json(msg=str(error), **{**(result or {}), **error.details})
