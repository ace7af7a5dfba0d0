"""How requests travel: independent calls overlap and fail in order; every request of a client gets the bounded
timeout; a request that got no answer is said in a few words; the retry policy never retries a read that timed
out. A server that accepts and never answers, against the collection's client: tests/integration/test_connection.py."""
from __future__ import annotations

import threading
from functools import partial
from types import SimpleNamespace

import pytest
import urllib3
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApiError
from ansible_collections.aphex.platform.plugins.module_utils.kube.transport import (
    BoundedRetry, bound_requests, run_concurrently, unreachable)


def test_run_concurrently_overlaps_the_calls_and_returns_results_in_order():
    # four calls that each wait for all four: they can only finish when they run at the same time
    barrier = threading.Barrier(4, timeout=10)

    def call(number):
        barrier.wait()
        return number

    assert run_concurrently([partial(call, n) for n in range(4)], workers=4) == [0, 1, 2, 3]


def test_run_concurrently_raises_the_first_failure_in_order_and_starts_nothing_after_it():
    started = []

    def call(number):
        started.append(number)
        if number in (1, 2):
            raise ClusterApiError(f"call {number} failed")
        return number

    with pytest.raises(ClusterApiError, match="call 1 failed"):
        run_concurrently([partial(call, n) for n in range(6)], workers=2)
    # two workers: calls 0 and 1 start; once 1 failed, at most the call already taken runs
    assert set(started) <= {0, 1, 2} and 1 in started
    with pytest.raises(ClusterApiError, match="call 1 failed"):
        run_concurrently([partial(call, n) for n in range(6)], workers=1)


def test_every_request_gets_the_bounded_timeout_unless_it_names_its_own():
    sent = []
    client = SimpleNamespace(request=lambda *args, **kwargs: sent.append(kwargs.get("_request_timeout")))
    bound_requests(client, (10, 30))
    client.request("GET", "/api")
    client.request("GET", "/api", _request_timeout=5)
    assert sent == [(10, 30), 5]


@pytest.mark.parametrize("error, said", [
    (urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out."), "no answer within the request timeout"),
    (urllib3.exceptions.ConnectTimeoutError("timed out"), "connection timed out"),
    (urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused"), "connection refused"),
    (urllib3.exceptions.ProtocolError("Connection aborted."), "connection closed without an answer"),
    (OSError("host: Name or service not known"), "Name or service not known"),
])
def test_a_request_without_an_answer_is_said_in_a_few_words(error, said):
    assert unreachable(urllib3.exceptions.MaxRetryError(None, "/api", error)) == said


def test_a_read_that_timed_out_is_never_retried_a_refused_connection_is():
    retry = BoundedRetry(total=5, connect=2, read=1, status=3, redirect=0)
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        retry.increment("GET", "/api", error=urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out."))
    again = retry.increment("GET", "/api", error=urllib3.exceptions.NewConnectionError(None, "refused"))
    assert again.connect == 1
