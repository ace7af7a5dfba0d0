"""config.yaml and node labels the k3s role renders, for each kind of node."""
import pytest

from ansible_collections.aphex.platform.plugins.filter.k3s import (
    gpu_node_labels, k3s_config, k3s_etcd_snapshot_problems, k3s_join_plan, k3s_node_labels, k3s_server_survey)

INIT = {"cluster_init": True, "server_url": ""}


def settings(**overrides):
    base = {"role": "server", "join": INIT, "server_url": "https://10.0.0.1:6443", "api_endpoint": "10.0.0.1",
            "token_file": "/etc/rancher/k3s/cluster-token", "node_name": "server-1", "tls_san": ["k3s.example"],
            "data_dir": "/var/lib/rancher/k3s", "disable": ["traefik"], "node_labels": {}, "node_taints": [],
            "gpu": {}, "gpu_default_runtime": False, "nvidia_runtime_installed": False, "extra": {}}
    return {**base, **overrides}


def test_first_server_initialises_etcd_and_never_holds_the_token():
    config = k3s_config(settings())
    assert config == {"token-file": "/etc/rancher/k3s/cluster-token", "node-name": "server-1",
                      "data-dir": "/var/lib/rancher/k3s", "write-kubeconfig-mode": "0600", "cluster-init": True,
                      "tls-san": ["k3s.example", "10.0.0.1"], "disable": ["traefik"]}


def test_the_data_dir_and_the_api_endpoint_always_reach_k3s():
    config = k3s_config(settings(data_dir="/data/k3s", api_endpoint="k3s-vip.example", tls_san=[]))
    assert config["data-dir"] == "/data/k3s" and config["tls-san"] == ["k3s-vip.example"]
    listed = k3s_config(settings(api_endpoint="k3s.example"))
    assert listed["tls-san"] == ["k3s.example"]


def test_joining_server_points_at_the_cluster_instead_of_initialising():
    config = k3s_config(settings(join={"cluster_init": False, "server_url": "https://10.0.0.2:6443"},
                                 node_name="server-2"))
    assert config["server"] == "https://10.0.0.2:6443"
    assert "cluster-init" not in config


def test_agent_gets_no_server_only_settings():
    config = k3s_config(settings(role="agent", join={}, node_name="cpu-1"))
    assert config == {"token-file": "/etc/rancher/k3s/cluster-token", "node-name": "cpu-1",
                      "data-dir": "/var/lib/rancher/k3s", "server": "https://10.0.0.1:6443"}


def test_labels_never_enter_config_yaml_so_a_label_change_never_restarts_k3s():
    gpu = {"present": True, "count": 8, "models": ["NVIDIA H200"]}
    config = k3s_config(settings(role="agent", gpu=gpu, node_labels={"zone": "a"},
                                 node_taints=["nvidia.com/gpu=present:NoSchedule"]))
    assert "node-label" not in config
    assert config["node-taint"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert k3s_node_labels(settings(gpu=gpu, node_labels={"zone": "a"})) == [
        "aphex.io/gpu=true", "aphex.io/gpu.count=8", "aphex.io/gpu.product=NVIDIA-H200", "nvidia.com/gpu.present=true",
        "zone=a"]
    # before the driver, detection has no name: the labels differ, config.yaml does not
    before = k3s_config(settings(role="agent", gpu={"present": True, "count": 8, "models": []}))
    after = k3s_config(settings(role="agent", gpu=gpu))
    assert before == after


def test_default_runtime_waits_for_the_toolkit_runtime_on_gpu_nodes():
    gpu = {"present": True, "count": 1}
    assert "default-runtime" not in k3s_config(settings(role="agent", gpu=gpu, gpu_default_runtime=True))
    assert k3s_config(settings(role="agent", gpu=gpu, gpu_default_runtime=True,
                               nvidia_runtime_installed=True))["default-runtime"] == "nvidia"
    assert "default-runtime" not in k3s_config(settings(role="agent", gpu_default_runtime=True,
                                                        nvidia_runtime_installed=True))


def test_own_labels_win_over_gpu_labels_and_extra_keys_merge_last():
    config = k3s_config(settings(gpu={"present": True}, node_labels={"aphex.io/gpu": "shared"},
                                 extra={"disable": [], "etcd-snapshot-retention": 10}))
    assert "aphex.io/gpu=shared" in k3s_node_labels(settings(gpu={"present": True}, node_labels={"aphex.io/gpu": "shared"}))
    assert config["disable"] == [] and config["etcd-snapshot-retention"] == 10


K3S_TOKEN = "K10" + "a" * 64 + "::server:" + "s" * 32


def server(host, **state):
    return {"host": host, "address": f"10.0.0.{host[-1]}", "reachable": True, "token": "", "role_token": "",
            "initialised": False, "config_join": "", **state}


def plan(servers, host, inventory_token="", endpoint="10.0.0.1"):
    return k3s_join_plan(servers, host, endpoint, 6443, inventory_token)


def test_a_new_cluster_is_initialised_by_the_first_server_only():
    fresh = [server("s1"), server("s2")]
    assert plan(fresh, "s1")["cluster_init"] is True
    joining = plan(fresh, "s2")
    assert joining["cluster_init"] is False and joining["server_url"] == "https://10.0.0.1:6443"
    assert plan(fresh, "s1")["token"] == ""  # the caller generates one


def test_adopting_a_cluster_from_k3s_install_script_keeps_its_token_and_its_origin():
    # installed by K3s's script: server/token and a datastore, no config.yaml and no token file of this role
    adopted = [server("s1", token=K3S_TOKEN, initialised=True), server("s2")]
    first = plan(adopted, "s1")
    assert first["token"] == K3S_TOKEN and first["cluster_init"] is True and first["error"] == ""
    assert "K3s's own token on s1" in first["token_source"]
    joining = plan(adopted, "s2")
    assert joining["token"] == K3S_TOKEN and joining["cluster_init"] is False


def test_a_rebuilt_first_server_joins_the_cluster_the_others_hold():
    rebuilt = [server("s1"), server("s2", token=K3S_TOKEN, role_token=K3S_TOKEN, initialised=True, config_join="server"),
               server("s3", token=K3S_TOKEN, initialised=True, config_join="server")]
    first = plan(rebuilt, "s1")
    assert first["cluster_init"] is False and first["token"] == K3S_TOKEN
    # the API endpoint is s1 itself, which has no cluster to answer with yet: it joins through s2
    assert first["server_url"] == "https://10.0.0.2:6443"
    assert plan(rebuilt, "s1", endpoint="k3s-vip.example")["server_url"] == "https://k3s-vip.example:6443"


def test_a_server_with_data_keeps_how_it_was_started():
    running = [server("s1", token=K3S_TOKEN, initialised=True, config_join="cluster-init"),
               server("s2", token=K3S_TOKEN, initialised=True, config_join="server")]
    assert plan(running, "s1")["cluster_init"] is True
    assert plan(running, "s2")["cluster_init"] is False


def test_an_inventory_token_must_match_the_clusters_in_either_form():
    running = [server("s1", token=K3S_TOKEN, initialised=True)]
    assert plan(running, "s1", inventory_token="s" * 32)["error"] == ""
    assert plan(running, "s1", inventory_token=K3S_TOKEN)["error"] == ""
    refused = plan(running, "s1", inventory_token="x" * 32)
    assert refused["error"].startswith("k3s_token differs from K3s's own token on s1") and refused["token"] == ""
    assert "x" * 32 not in refused["error"] and "s" * 32 not in refused["error"]
    assert plan([server("s1")], "s1", inventory_token="x" * 32)["token"] == "x" * 32


def test_servers_of_different_clusters_and_unreachable_servers_are_refused():
    split = [server("s1", token=K3S_TOKEN, initialised=True), server("s2", token="K10" + "b" * 64 + "::server:t",
                                                                     initialised=True)]
    assert "different K3s tokens" in plan(split, "s1")["error"]
    unknown = [server("s1"), {"host": "s2", "address": "10.0.0.2", "reachable": False}]
    assert "cannot tell whether s2 already hold" in plan(unknown, "s1")["error"]


def test_the_survey_reads_the_probes_of_each_server():
    import base64

    def slurped(text):
        return {"content": base64.b64encode(text.encode()).decode()}

    survey = k3s_server_survey(
        ["s1", "s2"], ["10.0.0.1", ""],
        [slurped(K3S_TOKEN + "\n"), {"failed": True}], [{"failed": True}, {"unreachable": True}],
        [{"stat": {"exists": True}}, {"stat": {"exists": False}}],
        [slurped("cluster-init: true\nnode-name: s1\n"), {"failed": True}])
    assert survey[0] == {"host": "s1", "address": "10.0.0.1", "reachable": True, "token": K3S_TOKEN,
                         "role_token": "", "initialised": True, "config_join": "cluster-init"}
    assert survey[1] == {"host": "s2", "address": "s2", "reachable": False}


@pytest.mark.parametrize("model, expected", [
    ("NVIDIA H200", "NVIDIA-H200"),
    ("NVIDIA GeForce RTX 4090 (Laptop)", "NVIDIA-GeForce-RTX-4090-Laptop"),
    ("X" * 80, "X" * 63),
])
def test_product_label_is_a_valid_label_value(model, expected):
    assert gpu_node_labels({"models": [model]})["aphex.io/gpu.product"] == expected


def test_forced_gpu_node_without_detection_gets_the_presence_labels_only():
    assert k3s_node_labels(settings(gpu={"present": True})) == ["aphex.io/gpu=true", "nvidia.com/gpu.present=true"]


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="server or agent"):
        k3s_config(settings(role="worker"))


def test_a_server_names_its_authentication_configuration_and_keeps_the_operators_apiserver_arguments():
    path = "/etc/rancher/k3s/authentication-config.yaml"
    config = k3s_config(settings(authentication_config=path, extra={"kube-apiserver-arg": ["audit-log-maxage=30"]}))
    assert config["kube-apiserver-arg"] == [f"authentication-config={path}", "audit-log-maxage=30"]
    one = k3s_config(settings(authentication_config=path, extra={"kube-apiserver-arg": "audit-log-maxage=30"}))
    assert one["kube-apiserver-arg"] == [f"authentication-config={path}", "audit-log-maxage=30"]
    assert "kube-apiserver-arg" not in k3s_config(settings())
    agent = k3s_config(settings(role="agent", authentication_config=path))
    assert "kube-apiserver-arg" not in agent


def test_servers_get_k3s_etcd_snapshot_settings_and_agents_none():
    snapshot = {"schedule": "0 */6 * * *", "retention": 10, "compress": True,
                "s3": {"endpoint": "s3.example", "bucket": "etcd", "folder": "lab"}}
    config = k3s_config(settings(etcd_snapshot=snapshot))
    assert {key: value for key, value in config.items() if key.startswith("etcd-")} == {
        "etcd-snapshot-schedule-cron": "0 */6 * * *", "etcd-snapshot-retention": 10, "etcd-snapshot-compress": True,
        "etcd-s3": True, "etcd-s3-endpoint": "s3.example", "etcd-s3-bucket": "etcd", "etcd-s3-folder": "lab"}
    from_secret = k3s_config(settings(etcd_snapshot={"s3": {"config_secret": "k3s-etcd-s3"}}))
    assert from_secret["etcd-s3"] is True and from_secret["etcd-s3-config-secret"] == "k3s-etcd-s3"
    assert not [key for key in k3s_config(settings(role="agent", etcd_snapshot=snapshot)) if key.startswith("etcd-")]
    assert k3s_etcd_snapshot_problems(snapshot) == ""


@pytest.mark.parametrize("snapshot, problem", [
    ({"schedule": "@daily"}, "k3s_etcd_snapshot.schedule: '@daily' is not a 5-field cron expression"),
    ({"retention": 0}, "k3s_etcd_snapshot.retention: 0 is not a number of snapshots"),
    ({"retention": True}, "k3s_etcd_snapshot.retention: True is not a number"),
    ({"keep": 3}, "k3s_etcd_snapshot.keep: unknown setting"),
    ({"s3": {"bucket": "b", "secret_key": "s3cr3t"}}, "k3s_etcd_snapshot.s3.secret_key: credentials are not written"),
    ({"s3": {"endpoint": "s3.example"}}, "k3s_etcd_snapshot.s3: needs a bucket"),
    ({"s3": {"bucket": "b", "acl": "private"}}, "k3s_etcd_snapshot.s3.acl: unknown setting"),
    ({"s3": {"bucket": "b", "config_secret": "k3s-etcd-s3"}}, "k3s_etcd_snapshot.s3.config_secret: given, the Secret"),
])
def test_etcd_snapshot_settings_that_cannot_work_are_named_and_no_credential_is_echoed(snapshot, problem):
    found = k3s_etcd_snapshot_problems(snapshot)
    assert problem in found and "s3cr3t" not in found
    with pytest.raises(ValueError, match="k3s_etcd_snapshot"):
        k3s_config(settings(etcd_snapshot=snapshot))
