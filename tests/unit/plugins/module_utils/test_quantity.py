"""Quantities as the API server reads them: the same amounts the Kubernetes client's parser gives for everything
the server accepts, and nothing for what it refuses (which the client's parser takes)."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.quantity import quantity
from kubernetes.utils import parse_quantity

ACCEPTED = ["0", "1", "1000m", "500m", "2Gi", "1.5Gi", "100Ki", "1e3", "1E-2", "2E", ".5", "5.", "+3k", "-1Mi",
            "12n", "7u", "64M", "1T", "3P", "1Ei"]


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_quantities_are_the_amounts_the_client_reads(text):
    assert quantity(text) == parse_quantity(text)


def test_equal_amounts_compare_equal_whatever_their_spelling():
    assert quantity("1000m") == quantity("1") and quantity("1Ki") == quantity("1024") and quantity("1e3") == quantity("1k")


@pytest.mark.parametrize("text", ["inf", "NaN", "1K", " 5", "5 ", "1_000", "1e", "m", "", "1Gb", "--1"])
def test_what_the_api_server_refuses_is_not_a_quantity(text):
    assert quantity(text) is None


def test_numbers_are_read_as_their_text():
    assert quantity(2) == 2 and quantity(0.5) == quantity("0.5")
