"""The local Cloudflare API server runs as a program of its own (as `make demo` starts it) and answers the official
SDK, refusing a wrong token. Its behaviour under the collection's module is tested in
tests/integration/test_cloudflare_tunnel.py."""
from __future__ import annotations

import pytest

from harness import REPO


def test_the_server_runs_standalone_and_serves_the_sdk():
    import socket
    import subprocess
    import sys

    import cloudflare

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "harness.cloudflare.server", "--port", str(port),
                               "--token", "standalone", "--zone", "one.test"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().startswith(f"fake Cloudflare at http://127.0.0.1:{port}/client/v4")
        client = cloudflare.Cloudflare(api_token="standalone", base_url=f"http://127.0.0.1:{port}/client/v4",
                                       max_retries=0)
        assert [zone.name for zone in client.zones.list()] == ["one.test"]
        with pytest.raises(cloudflare.PermissionDeniedError):
            cloudflare.Cloudflare(api_token="nope", base_url=f"http://127.0.0.1:{port}/client/v4",
                                  max_retries=0).zones.list()
    finally:
        server.terminate()
        server.wait(timeout=10)
