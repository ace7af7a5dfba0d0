"""playbooks/backup.yml and playbooks/restore.yml (issue 25 item 3): a platform bootstrapped with tenants and their
Cloudflare tunnels (the local Cloudflare server) is backed up into an Ansible Vault file; a new control plane gets
the file restored before bootstrap, and after bootstrap and onboard every platform secret, webhook secret and tunnel
token is byte-identical to the old cluster's, none generated again. Each control plane is a fresh etcd +
kube-apiserver of this module's own, with ArgoCD's real install manifest (bootstrap without the wait)."""
from __future__ import annotations

import base64
import os
import re
import stat

import pytest
import yaml
from kubernetes import client, config

from harness.controlplane.audit import AuditLog
from harness.controlplane.cluster import ADMIN_USER, ControlPlane, binaries
from harness.inventory import HOST, bootstrap, org, pipeline, tunnel_settings, write_platform_inventory
from harness.kube import install_bootstrap_prerequisites, list_labelled
from harness.playbooks import REPO, run_playbook

PASSPHRASE = "operator passphrase, never printed 4f1c"


def _plane(folder):
    plane = ControlPlane(folder / "controlplane", binaries())
    plane.up()
    api = config.new_client_from_config(config_file=str(plane.admin_kubeconfig))
    install_bootstrap_prerequisites(api)
    return plane, api


def _managed_secrets(api) -> dict:
    """(namespace, name) -> data of every Secret the platform manages."""
    return {(item["metadata"]["namespace"], item["metadata"]["name"]): item.get("data") or {}
            for item in list_labelled(api, "v1", "Secret", "platform.aphex/managed-by=aphex-platform")}


def _run(playbook: str, inventory, *args, passphrase=PASSPHRASE, backup_file=None):
    env = {"APHEX_BACKUP_PASSPHRASE": passphrase} if passphrase else {}
    extra = ("-e", f"aphex_backup_file={backup_file}") if backup_file else ()
    return run_playbook(REPO / "playbooks" / playbook, "-i", str(inventory), *extra, *args, extra_env=env)


def _values(secrets: dict) -> list:
    """The secret values, encoded and decoded; names some Secrets also hold (an OAuth client's id: a word with
    dashes) are left out, being printed elsewhere by design."""
    return [text for data in secrets.values() for encoded in data.values()
            for text in (encoded, base64.b64decode(encoded).decode("utf-8", "replace"))
            if len(text) >= 12 and not re.fullmatch(r"[-a-z.]+", text)]


@pytest.fixture(scope="module")
def old_cluster(tmp_path_factory, local_cloudflare):
    """The cluster a disaster takes: bootstrapped with two organizations (tunnels on) and a pipeline, backed up."""
    folder = tmp_path_factory.mktemp("old")
    plane, api = _plane(folder)
    try:
        inventory = write_platform_inventory(
            folder / "inventory", plane.admin_kubeconfig, **tunnel_settings(local_cloudflare),
            aphex_organizations=[org("acme"), org("beta")],
            aphex_pipelines=[pipeline("acme-web", "acme", "acme/web")])
        run = bootstrap(inventory)
        assert run.returncode == 0, run.output[-6000:]
        backup_file = folder / "backups" / "platform.vault"
        backup_file.parent.mkdir()
        first = _run("backup.yml", inventory, backup_file=backup_file)
        assert first.returncode == 0, first.output[-4000:]
        yield {"plane": plane, "api": api, "inventory": inventory, "backup_file": backup_file, "first": first,
               "secrets": _managed_secrets(api)}
    finally:
        plane.down()


@pytest.fixture(scope="module")
def new_cluster(tmp_path_factory, old_cluster):
    """A new control plane for the same inventory host: the old inventory pointed at it."""
    folder = tmp_path_factory.mktemp("new")
    plane, api = _plane(folder)
    inventory = folder / "inventory"
    os.makedirs(inventory)
    for name in ("group_vars", "releases"):
        os.symlink(old_cluster["inventory"] / name, inventory / name)
    hosts = yaml.safe_load((old_cluster["inventory"] / "hosts.yml").read_text())
    hosts["aphex_cluster"]["hosts"][HOST]["aphex_kubeconfig"] = str(plane.admin_kubeconfig)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    try:
        yield {"plane": plane, "api": api, "inventory": inventory, "audit": AuditLog(plane.audit_log)}
    finally:
        plane.down()


def test_the_backup_is_a_vault_file_of_every_managed_secret_and_shows_no_value(old_cluster):
    backup_file, secrets = old_cluster["backup_file"], old_cluster["secrets"]
    text = backup_file.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;aphex-backup\n")
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    # what cannot be regenerated: platform secrets, each organization's webhook secret and tunnel token
    for wanted in (("auth-system", "dex-secrets"), ("argocd", "argocd-secret"), ("org-acme", "github-webhook-secret"),
                   ("org-beta", "github-webhook-secret"), ("org-acme", "cloudflared-token"),
                   ("org-beta", "cloudflared-token")):
        assert wanted in secrets
    [said] = old_cluster["first"].task_results("Say what the backup holds", HOST)
    assert said["msg"][0] == f"backup {backup_file} of cluster {HOST}: {len(secrets)} Secrets"
    assert "org-acme/github-webhook-secret: secret" in said["msg"][1]
    for value in _values(secrets) + [PASSPHRASE]:
        assert value not in text and value not in old_cluster["first"].output


def test_a_second_backup_of_an_unchanged_cluster_changes_nothing_even_at_vvv(old_cluster):
    before = old_cluster["backup_file"].read_bytes()
    again = _run("backup.yml", old_cluster["inventory"], "-vvv", backup_file=old_cluster["backup_file"])
    assert again.returncode == 0 and again.changed == 0, again.changed_tasks
    assert old_cluster["backup_file"].read_bytes() == before
    for value in _values(old_cluster["secrets"]) + [PASSPHRASE]:
        assert value not in again.output


def test_a_backup_never_overwrites_a_file_its_passphrase_cannot_open(old_cluster):
    before = old_cluster["backup_file"].read_bytes()
    refused = _run("backup.yml", old_cluster["inventory"], passphrase="another passphrase 1234",
                   backup_file=old_cluster["backup_file"])
    assert refused.returncode != 0
    assert refused.failed_results[-1][1]["msg"] == (
        f"{old_cluster['backup_file']} exists and the passphrase does not open it as an aphex.platform backup: give "
        f"another aphex_backup_file, or move that file away; nothing was written")
    assert old_cluster["backup_file"].read_bytes() == before


@pytest.mark.parametrize("passphrase, backup_file, message", [
    ("", "x.vault", "aphex_backup_passphrase: give a passphrase of at least 12 characters"),
    ("short", "x.vault", "aphex_backup_passphrase: give a passphrase of at least 12 characters"),
    (PASSPHRASE, None, "aphex_backup_file: give the path of the backup file"),
])
def test_backup_and_restore_name_a_missing_file_or_weak_passphrase_before_reading_anything(
        old_cluster, tmp_path, passphrase, backup_file, message):
    for playbook in ("backup.yml", "restore.yml"):
        run = _run(playbook, old_cluster["inventory"], passphrase=passphrase,
                   backup_file=backup_file and tmp_path / backup_file)
        assert run.returncode != 0
        [(task, result)] = run.failed_results
        assert task == "Check that a backup file and a passphrase are given"
        assert result["msg"].startswith(message) and result["msg"].endswith("; nothing was read or written")
    assert not (tmp_path / "x.vault").exists()


def test_restore_onto_a_new_control_plane_then_bootstrap_keeps_every_secret_byte_for_byte(old_cluster, new_cluster):
    api, audit, inventory = new_cluster["api"], new_cluster["audit"], new_cluster["inventory"]
    backup_file = old_cluster["backup_file"]
    mark = audit.mark()

    wrong = _run("restore.yml", inventory, passphrase="not the passphrase 99", backup_file=backup_file)
    assert wrong.returncode != 0
    assert wrong.failed_results[-1][1]["msg"] == (
        f"{backup_file}: the passphrase does not open it (or it is not an Ansible Vault file written by backup.yml); "
        f"nothing was restored")
    missing = _run("restore.yml", inventory, backup_file=backup_file.with_name("absent.vault"))
    assert missing.failed_results[-1][1]["msg"] == (
        f"aphex_backup_file: {backup_file.with_name('absent.vault')} does not exist; nothing was restored")

    preview = _run("restore.yml", inventory, "--check", "--diff", backup_file=backup_file)
    assert preview.returncode == 0 and preview.changed == 1, preview.output[-4000:]
    assert audit.writes(since=mark, user=ADMIN_USER) == []
    [previewed] = preview.task_results("Restore what the cluster is missing", HOST)
    assert {(d["before_header"], tuple(d["after"].values())) for d in previewed["diff"]} >= {
        ("Secret org-acme/github-webhook-secret", ("<redacted>",))}

    restored = _run("restore.yml", inventory, "-vvv", backup_file=backup_file)
    assert restored.returncode == 0, restored.output[-4000:]
    assert _managed_secrets(api) == old_cluster["secrets"]
    for value in _values(old_cluster["secrets"]) + [PASSPHRASE]:
        assert value not in restored.output

    mark = audit.mark()
    again = _run("restore.yml", inventory, backup_file=backup_file)
    assert again.returncode == 0 and again.changed == 0, again.changed_tasks
    assert audit.writes(since=mark, user=ADMIN_USER) == []

    run = bootstrap(inventory)
    assert run.returncode == 0, run.output[-6000:]
    [generated] = run.task_results("Generate missing secrets, keep existing values, keep copies equal", HOST)
    assert [(o["name"], key) for o in generated["objects"] if o["kind"] == "Secret"
            for key, action in o["keys"].items() if action == "generated"] == []
    assert _managed_secrets(api) == old_cluster["secrets"]
    # onboarding again (the tenants stage ran inside bootstrap) keeps them too
    onboard = run_playbook(REPO / "playbooks/onboard.yml", "-i", str(inventory))
    assert onboard.returncode == 0 and onboard.changed == 0, onboard.changed_tasks
    assert _managed_secrets(api) == old_cluster["secrets"]


def test_a_restore_is_refused_before_any_write_where_the_cluster_holds_other_values(old_cluster, new_cluster):
    """After the byte-for-byte test: the new cluster holds the backup's values; one of them is now changed by hand
    (another cluster's file would look the same)."""
    api, audit = new_cluster["api"], new_cluster["audit"]
    client.CoreV1Api(api).patch_namespaced_secret("github-webhook-secret", "org-beta", {"data": {
        "secret": base64.b64encode(b"rotated-by-hand-after-the-backup").decode()}})
    client.CoreV1Api(api).delete_namespaced_secret("github-webhook-secret", "org-acme")
    mark = audit.mark()
    refused = _run("restore.yml", new_cluster["inventory"], backup_file=old_cluster["backup_file"])
    assert refused.returncode != 0
    [result] = refused.task_results("Restore what the cluster is missing", HOST)
    assert result["conflicts"] == ["Secret org-beta/github-webhook-secret key 'secret' holds another value"]
    assert result["msg"].endswith("; nothing was restored")
    # the deleted one is not put back either: nothing is written when anything conflicts
    assert audit.writes(since=mark, user=ADMIN_USER) == []


def test_a_backup_of_another_inventory_host_is_refused_unless_asked(old_cluster, new_cluster, tmp_path):
    inventory = tmp_path / "other"
    inventory.mkdir()
    os.symlink(new_cluster["inventory"] / "group_vars", inventory / "group_vars")
    hosts = yaml.safe_load((new_cluster["inventory"] / "hosts.yml").read_text())
    hosts["aphex_cluster"]["hosts"] = {"staging": hosts["aphex_cluster"]["hosts"][HOST]}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    mark = new_cluster["audit"].mark()
    refused = _run("restore.yml", inventory, backup_file=old_cluster["backup_file"])
    assert refused.returncode != 0
    [result] = refused.task_results("Restore what the cluster is missing", "staging")
    assert result["msg"] == (
        f"the backup was taken from cluster '{HOST}', not 'staging': restore it only where it belongs, or set "
        f"aphex_restore_other_cluster: true to put another cluster's secrets here; nothing was restored")
    assert new_cluster["audit"].writes(since=mark, user=ADMIN_USER) == []
