# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How requests travel: bounded (connect, read) timeouts on every request, a retry policy that retries only what
never reached the server or what the server asked to be retried, the words for a request that got no answer, and
independent requests sent a few at a time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import urllib3

    class BoundedRetry(urllib3.Retry):
        """Retries a connection that was refused or dropped (a pooled one the server closed), and an answer that
        asks for it (429/503 with Retry-After, as while a new CRD's API settles); never an answer that did not
        come, so the request timeout bounds the wait."""

        def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
            if isinstance(error, urllib3.exceptions.ReadTimeoutError):
                raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
            return super().increment(method, url, response, error, _pool, _stacktrace)
except ImportError:  # kube/client.py reports the missing kubernetes library
    urllib3 = BoundedRetry = None

# Seconds to wait for the API server to accept a connection or to send the next bytes of an answer: a server that
# accepts but never answers fails the run within this bound instead of hanging it.
DEFAULT_REQUEST_TIMEOUT = 30
CONNECT_TIMEOUT = 10
# Requests in flight at once when many independent objects are read or written: one at a time, each write waits
# for its round trip (about 4 ms here), so 23,000 first-time applies took 94 s (docs/performance.md).
CONCURRENT_REQUESTS = 8


def unreachable(error) -> str:
    """A short cause for a request that got no answer (urllib3 wraps the socket error in layers)."""
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError) or "Read timed out" in text:
        return "no answer within the request timeout"
    # before the timeout: urllib3's NewConnectionError, which a refused connection raises, is a ConnectTimeoutError
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) or "timed out" in text:
        return "connection timed out"
    if isinstance(reason, urllib3.exceptions.ProtocolError) or "Connection aborted" in text:
        return "connection closed without an answer"
    return text.rsplit(": ", 1)[-1]


def bound_requests(rest_client, timeouts: tuple) -> None:
    """Give every request of the client (discovery included, which takes no per-call timeout) a (connect, read)
    timeout: without one the client sends timeout=None, which waits forever for a TLS handshake or an answer."""
    request = rest_client.request

    def bounded(*args, **kwargs):
        kwargs["_request_timeout"] = kwargs.get("_request_timeout") or timeouts
        return request(*args, **kwargs)

    rest_client.request = bounded


def run_concurrently(calls, workers: int) -> list:
    """Run independent calls `workers` at a time; their results in order. The first failure in that order is
    raised once the calls under way have ended; calls not yet started are dropped, so a failure stops the batch
    as it stopped a one-by-one loop."""
    calls = list(calls)
    if len(calls) < 2 or workers < 2:
        return [call() for call in calls]
    failed = threading.Event()

    def guarded(call):
        if failed.is_set():
            return None
        try:
            return call()
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(guarded, call) for call in calls]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]
