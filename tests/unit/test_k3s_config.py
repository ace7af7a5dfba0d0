"""config.yaml and node labels the k3s role renders, for each kind of node."""
import pytest

from ansible_collections.aphex.platform.plugins.filter.k3s import gpu_node_labels, k3s_config, k3s_node_labels


def settings(**overrides):
    base = {"role": "server", "primary": True, "server_url": "https://10.0.0.1:6443",
            "token_file": "/etc/rancher/k3s/cluster-token", "node_name": "server-1", "tls_san": ["k3s.example"],
            "disable": ["traefik"], "node_labels": {}, "node_taints": [], "gpu": {}, "gpu_default_runtime": False,
            "extra": {}}
    return {**base, **overrides}


def test_first_server_initialises_etcd_and_never_holds_the_token():
    config = k3s_config(settings())
    assert config == {"token-file": "/etc/rancher/k3s/cluster-token", "node-name": "server-1",
                      "write-kubeconfig-mode": "0600", "cluster-init": True, "tls-san": ["k3s.example"],
                      "disable": ["traefik"]}


def test_joining_server_points_at_the_cluster_instead_of_initialising():
    config = k3s_config(settings(primary=False, node_name="server-2"))
    assert config["server"] == "https://10.0.0.1:6443"
    assert "cluster-init" not in config


def test_agent_gets_no_server_only_settings():
    config = k3s_config(settings(role="agent", primary=False, node_name="cpu-1"))
    assert config == {"token-file": "/etc/rancher/k3s/cluster-token", "node-name": "cpu-1",
                      "server": "https://10.0.0.1:6443"}


def test_gpu_agent_gets_labels_from_detection_and_the_default_runtime_on_request():
    gpu = {"present": True, "count": 8, "models": ["NVIDIA H200"]}
    config = k3s_config(settings(role="agent", primary=False, gpu=gpu, gpu_default_runtime=True,
                                 node_labels={"zone": "a"}, node_taints=["nvidia.com/gpu=present:NoSchedule"]))
    assert config["node-label"] == ["aphex.io/gpu=true", "aphex.io/gpu.count=8", "aphex.io/gpu.product=NVIDIA-H200",
                                    "nvidia.com/gpu.present=true", "zone=a"]
    assert config["node-taint"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert config["default-runtime"] == "nvidia"


def test_default_runtime_is_only_set_on_gpu_nodes():
    assert "default-runtime" not in k3s_config(settings(role="agent", gpu_default_runtime=True))


def test_own_labels_win_over_gpu_labels_and_extra_keys_merge_last():
    config = k3s_config(settings(gpu={"present": True}, node_labels={"aphex.io/gpu": "shared"},
                                 extra={"disable": [], "etcd-snapshot-retention": 10}))
    assert "aphex.io/gpu=shared" in config["node-label"]
    assert config["disable"] == [] and config["etcd-snapshot-retention"] == 10


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
