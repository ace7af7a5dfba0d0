"""aphex.platform.artifact, run by ansible-playbook on localhost: a good controller-local file is placed (once), a
wrong one is refused with nothing placed, a download goes through get_url with the checksum (from a loopback HTTP
server), and check mode places nothing."""
from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest
import yaml

from harness.playbooks import run_playbook

CONTENT = b"#!/bin/sh\necho release 1.2.3\n"
GOOD = hashlib.sha256(CONTENT).hexdigest()
BAD = hashlib.sha256(b"something else").hexdigest()


def place(tmp_path, *args, **artifact):
    playbook = tmp_path / "place.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Place it", "aphex.platform.artifact": {"name": "test binary", "mode": "0755", **artifact},
                   "register": "placed"}],
    }]))
    return run_playbook(playbook, "-i", "localhost,", "-c", "local", *args)


def result_of(run) -> dict:
    [result] = run.task_results("Place it", "localhost")
    return result


@pytest.fixture
def release(tmp_path):
    source = tmp_path / "release" / "tool"
    source.parent.mkdir()
    source.write_bytes(CONTENT)
    return source


@pytest.fixture
def server(release):
    """The release folder served on loopback, for the download path."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(release.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_good_controller_local_file_is_placed_once(tmp_path, release):
    dest = tmp_path / "bin" / "tool"
    dest.parent.mkdir()
    first = place(tmp_path, src=str(release), url="http://127.0.0.1:9/never-used", checksum=GOOD, dest=str(dest))
    assert first.returncode == 0, first.output
    assert result_of(first)["changed"] and result_of(first)["source"] == "controller"
    assert dest.read_bytes() == CONTENT and oct(dest.stat().st_mode & 0o777) == "0o755"
    again = place(tmp_path, src=str(release), checksum=GOOD, dest=str(dest))
    assert again.returncode == 0 and again.changed == 0


@pytest.mark.parametrize("check", [(), ("--check",)], ids=["apply", "check"])
def test_a_wrong_checksum_is_refused_naming_both_and_nothing_is_placed(tmp_path, release, check):
    dest = tmp_path / "tool"
    run = place(tmp_path, *check, src=str(release), checksum=BAD, dest=str(dest))
    assert run.returncode != 0
    assert result_of(run)["msg"] == (f"test binary: {release} has SHA-256 {GOOD}; expected {BAD}. "
                                     "Nothing was placed.")
    assert not dest.exists()


def test_a_missing_file_or_checksum_is_refused(tmp_path, release):
    missing = place(tmp_path, src=str(tmp_path / "nowhere"), checksum=GOOD, dest=str(tmp_path / "tool"))
    assert result_of(missing)["msg"] == f"test binary: {tmp_path / 'nowhere'} does not exist on the controller. Nothing was placed."
    unchecked = place(tmp_path, src=str(release), dest=str(tmp_path / "tool"))
    assert result_of(unchecked)["msg"].startswith("test binary: checksum is required")
    malformed = place(tmp_path, src=str(release), checksum="abc", dest=str(tmp_path / "tool"))
    assert result_of(malformed)["msg"] == "test binary: checksum must be a SHA-256 (64 hex characters), not 'abc'"
    assert not (tmp_path / "tool").exists()


def test_the_download_path_checks_the_same_checksum(tmp_path, server):
    dest = tmp_path / "tool"
    refused = place(tmp_path, src="", url=f"{server}/tool", checksum=BAD, dest=str(dest))
    assert refused.returncode != 0 and not dest.exists()
    assert "checksum" in result_of(refused)["msg"].lower()
    downloaded = place(tmp_path, src="", url=f"{server}/tool", checksum=GOOD, dest=str(dest))
    assert downloaded.returncode == 0, downloaded.output
    assert result_of(downloaded)["changed"] and result_of(downloaded)["source"] == "download"
    assert dest.read_bytes() == CONTENT
    assert place(tmp_path, src="", url=f"{server}/tool", checksum=GOOD, dest=str(dest)).changed == 0


def test_check_mode_places_nothing_and_says_it_would(tmp_path, release, server):
    for source in ({"src": str(release)}, {"url": f"{server}/tool"}):
        dest = tmp_path / "tool"
        run = place(tmp_path, "--check", checksum=GOOD, dest=str(dest), **source)
        assert run.returncode == 0, run.output
        assert result_of(run)["changed"]
        assert not dest.exists()


def test_src_is_found_the_way_copy_finds_it_and_that_file_is_the_one_checked(tmp_path, release):
    """A path with ~ or relative to the playbook is hashed where copy would read it, never another file."""
    relative = tmp_path / "tool-beside-the-playbook"
    relative.write_bytes(CONTENT)
    dest = tmp_path / "placed"
    run = place(tmp_path, src=relative.name, checksum=GOOD, dest=str(dest))
    assert run.returncode == 0, run.output
    assert dest.read_bytes() == CONTENT
    wrong = place(tmp_path, src=relative.name, checksum=BAD, dest=str(tmp_path / "other"))
    assert result_of(wrong)["msg"].startswith(f"test binary: {relative.name} has SHA-256 {GOOD}")


def test_a_checked_file_that_is_its_own_destination_is_left_as_it_is(tmp_path, release):
    """The platform role places ArgoCD's install.yaml from the controller's cache onto itself: checked, not copied."""
    before = release.stat().st_mtime_ns
    run = place(tmp_path, src=str(release), checksum=GOOD, dest=str(release), mode=None)
    assert run.returncode == 0, run.output
    assert result_of(run)["changed"] is False and result_of(run)["source"] == "controller"
    assert release.stat().st_mtime_ns == before
    refused = place(tmp_path, src=str(release), checksum=BAD, dest=str(release), mode=None)
    assert result_of(refused)["failed"] and "Nothing was placed" in result_of(refused)["msg"]
