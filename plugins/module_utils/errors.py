# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error base of the collection. Code below the modules raises an AphexError (or a subclass naming its
concern) with a message that says what is wrong and what to do; the module runner (runner.py) turns it into
fail_json, in one place. Anything else escaping is a bug and keeps its traceback."""

from __future__ import annotations


class AphexError(Exception):
    """A failure the user can act on. `details` become extra keys of the module's failed result (e.g. `problems`)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details
