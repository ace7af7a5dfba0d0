"""How a cluster is named in messages - never with a credential - and which kubeconfig a run looked for when
there is none."""
from __future__ import annotations

import pytest
from ansible_collections.aphex.platform.plugins.module_utils.kube.kubeconfig import describe, missing_kubeconfig


def test_a_missing_kubeconfig_is_named_by_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    given = f"{tmp_path}/a.kubeconfig:{tmp_path}/b.kubeconfig"
    assert missing_kubeconfig({"kubeconfig": given}) == (
        f"no kubeconfig a.kubeconfig in {tmp_path}, b.kubeconfig in {tmp_path} "
        "(option kubeconfig (or K8S_AUTH_KUBECONFIG))")
    (tmp_path / "b.kubeconfig").write_text("{}")
    assert missing_kubeconfig({"kubeconfig": given}) is None  # one of them is there


def test_the_default_is_named_when_nothing_says_where(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    assert missing_kubeconfig({}) == (f"no kubeconfig config in {tmp_path} "
                                      "(the default, as neither kubeconfig nor host with credentials is set)")


@pytest.mark.parametrize("auth", [
    {"host": "https://10.0.0.1:6443", "api_key": "t"},
    {"host": "https://10.0.0.1:6443", "cert_file": "c", "key_file": "k"},
    {"kubeconfig": {"clusters": []}},
])
def test_no_kubeconfig_is_needed_with_credentials_or_a_kubeconfig_given_as_data(auth):
    assert missing_kubeconfig(auth) is None


def test_in_a_pod_the_service_account_is_used_unless_a_context_asks_for_a_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    assert missing_kubeconfig({}) is None
    assert missing_kubeconfig({"context": "admin"}).startswith("no kubeconfig config in")


def test_a_cluster_is_described_without_its_credentials():
    assert describe({"host": "https://api:6443", "api_key": "s3cr3t"}) == "host https://api:6443"
    assert describe({"kubeconfig": "/home/u/.kube/a:/etc/b", "context": "prod"}) == \
        "kubeconfig a in /home/u/.kube, b in /etc context prod"
    assert describe({"kubeconfig": {"users": [{"user": {"token": "s3cr3t"}}]}}) == "kubeconfig (given as a dict)"
    assert describe({}) == "kubeconfig (default)"
