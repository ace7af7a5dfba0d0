# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes quantities ("500m", "2Gi", "1e3") as the API server reads them. Pure: imports nothing, so that
inventory validation runs without the Kubernetes client."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The grammar of the API server's resource.Quantity. The client library's parser also takes what the server
# refuses ("inf", "NaN", "1K", " 5", "1_000"), so nothing outside it is a quantity here.
QUANTITY_GRAMMAR = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def quantity(value) -> Decimal | None:
    """The amount a quantity stands for ("1000m" and "1" are equal); None when the API server would refuse it."""
    match = QUANTITY_GRAMMAR.match(str(value))
    if not match:
        return None
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:
        return None
    suffix = match.group("suffix") or ""
    if suffix in BINARY_SUFFIXES:
        return number * (Decimal(1024) ** BINARY_SUFFIXES[suffix])
    if suffix in DECIMAL_SUFFIXES:
        return number.scaleb(DECIMAL_SUFFIXES[suffix])
    return number.scaleb(int(suffix[1:]))  # an exponent, e3 or E-2
