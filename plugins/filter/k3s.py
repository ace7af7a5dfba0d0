# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the k3s role renders its configuration with."""

from __future__ import annotations

import base64
import re

import yaml

from ansible_collections.aphex.platform.plugins.module_utils.naming import GPU_LABEL_PREFIX

_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9._-]+")


def gpu_node_labels(gpu: dict | None) -> dict:
    """Labels that let GPU workloads select a node; count and product only when detection saw them."""
    if not gpu:
        return {}
    labels = {"nvidia.com/gpu.present": "true", GPU_LABEL_PREFIX: "true"}
    if gpu.get("count"):
        labels[f"{GPU_LABEL_PREFIX}.count"] = str(gpu["count"])
    models = gpu.get("models") or []
    if models:
        # Label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric.
        product = _LABEL_VALUE_INVALID.sub("-", models[0]).strip("-._")[:63].rstrip("-._")
        if product:
            labels[f"{GPU_LABEL_PREFIX}.product"] = product
    return labels


def node_labels(settings: dict) -> dict:
    """The node's own labels plus the GPU labels, the node's own winning."""
    return {**gpu_node_labels(settings.get("gpu")), **(settings.get("node_labels") or {})}


# K3s's etcd snapshot settings (servers with embedded etcd) by the role's names, and S3's inside `s3`.
ETCD_SNAPSHOT_SETTINGS = {"schedule": "etcd-snapshot-schedule-cron", "retention": "etcd-snapshot-retention",
                          "dir": "etcd-snapshot-dir", "compress": "etcd-snapshot-compress"}
ETCD_S3_SETTINGS = {"endpoint": "etcd-s3-endpoint", "bucket": "etcd-s3-bucket", "region": "etcd-s3-region",
                    "folder": "etcd-s3-folder", "config_secret": "etcd-s3-config-secret",
                    "endpoint_ca": "etcd-s3-endpoint-ca", "skip_ssl_verify": "etcd-s3-skip-ssl-verify",
                    "insecure": "etcd-s3-insecure", "timeout": "etcd-s3-timeout"}


def etcd_snapshot_config(snapshot: dict, where: str = "k3s_etcd_snapshot") -> dict:
    """config.yaml's etcd snapshot keys for SNAPSHOT (k3s_etcd_snapshot); a setting that cannot work raises
    ValueError naming it. S3 credentials never go into config.yaml: either s3.config_secret alone names the
    kube-system Secret holding every S3 setting, or the other s3 settings are given and the credentials come from the
    server's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the host's instance role."""
    snapshot = dict(snapshot or {})
    problems = [f"{where}.{key}: unknown setting (known: {', '.join([*ETCD_SNAPSHOT_SETTINGS, 's3'])})"
                for key in snapshot if key not in ETCD_SNAPSHOT_SETTINGS and key != "s3"]
    if "schedule" in snapshot and len(str(snapshot["schedule"]).split()) != 5:
        problems.append(f"{where}.schedule: {snapshot['schedule']!r} is not a 5-field cron expression")
    retention = snapshot.get("retention", 1)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        problems.append(f"{where}.retention: {retention!r} is not a number of snapshots (1 or more)")
    s3 = dict(snapshot.get("s3") or {})
    for key in s3:
        if key in ("access_key", "secret_key"):
            problems.append(f"{where}.s3.{key}: credentials are not written to config.yaml; put them in a Secret in "
                            "kube-system and name it in s3.config_secret")
        elif key not in ETCD_S3_SETTINGS:
            problems.append(f"{where}.s3.{key}: unknown setting (known: {', '.join(ETCD_S3_SETTINGS)})")
    if s3.get("config_secret") and len(s3) > 1:
        # K3s reads the Secret only when no other etcd-s3 option is set: the rest would silently win.
        problems.append(f"{where}.s3.config_secret: given, the Secret holds every S3 setting; remove "
                        f"{', '.join(sorted(key for key in s3 if key != 'config_secret'))} (or the config_secret)")
    elif s3 and not s3.get("bucket") and not s3.get("config_secret"):
        problems.append(f"{where}.s3: needs a bucket (or a config_secret holding every S3 setting)")
    if problems:
        raise ValueError("; ".join(problems))
    config = {ETCD_SNAPSHOT_SETTINGS[key]: value for key, value in snapshot.items() if key != "s3"}
    if s3:
        config["etcd-s3"] = True
        config.update({ETCD_S3_SETTINGS[key]: value for key, value in s3.items()})
    return config


def k3s_config(settings: dict) -> dict:
    """config.yaml for one node. The token stays in its own file (token-file) so this file is never secret.

    Labels are not part of it: K3s reads node-label only when a node registers, and a changed file restarts K3s,
    so every label goes through the API (k3s_node_labels) and a label change never restarts a node."""
    role = settings["role"]
    if role not in ("server", "agent"):
        raise ValueError(f"k3s node role must be server or agent, not {role!r}")
    config = {"token-file": settings["token_file"], "node-name": settings["node_name"],
              "data-dir": settings["data_dir"]}
    join = settings.get("join") or {}
    if role == "server":
        config["write-kubeconfig-mode"] = "0600"
        if join.get("cluster_init"):
            config["cluster-init"] = True
        else:
            config["server"] = join.get("server_url") or settings["server_url"]
        # K3s refuses a client that reaches it by a name missing from its certificate: the API endpoint (a VIP or
        # a load balancer in front of the servers) is always one of them.
        sans = list(settings.get("tls_san") or [])
        if settings.get("api_endpoint") and settings["api_endpoint"] not in sans:
            sans.append(settings["api_endpoint"])
        if sans:
            config["tls-san"] = sans
        if settings.get("disable"):
            config["disable"] = list(settings["disable"])
        config.update(etcd_snapshot_config(settings.get("etcd_snapshot") or {}))
    else:
        config["server"] = settings["server_url"]
    if settings.get("node_taints"):
        config["node-taint"] = list(settings["node_taints"])
    # containerd refuses a default runtime it has no entry for, and K3s adds the nvidia entry only when it finds
    # the toolkit's runtime on the host: asking for it earlier would keep the node from starting.
    if settings.get("gpu") and settings.get("gpu_default_runtime") and settings.get("nvidia_runtime_installed"):
        config["default-runtime"] = "nvidia"
    extra = dict(settings.get("extra") or {})
    if settings.get("authentication_config") and settings["role"] == "server":
        # The operator's own kube-apiserver-arg entries are kept after it.
        given = extra.pop("kube-apiserver-arg", None) or []
        config["kube-apiserver-arg"] = [f"authentication-config={settings['authentication_config']}",
                                        *([given] if isinstance(given, str) else list(given))]
    config.update(extra)
    return config


def k3s_node_labels(settings: dict) -> list:
    """The node's labels as key=value arguments for kubectl label."""
    return [f"{key}={value}" for key, value in sorted(node_labels(settings).items())]


def _token_matches(kept: str, given: str) -> bool:
    # K3s keeps the full token (K10<CA hash>::server:<secret>); an inventory may hold the full form or the secret.
    return given == kept or kept.endswith("::server:" + given)


def _content(result: dict) -> str:
    if result.get("unreachable") or result.get("failed") or "content" not in result:
        return ""
    return base64.b64decode(result["content"]).decode("utf-8", "replace").strip()


def k3s_server_survey(hosts: list, addresses: list, kept: list, written: list, stores: list, configs: list) -> list:
    """One entry per server for k3s_join_plan, from the role's probes (slurp and stat results, in host order)."""
    survey = []
    for host, address, kept_token, role_token, store, config in zip(hosts, addresses, kept, written, stores, configs):
        if any(result.get("unreachable") for result in (kept_token, role_token, store, config)):
            survey.append({"host": host, "address": address or host, "reachable": False})
            continue
        try:
            current = yaml.safe_load(_content(config))
        except yaml.YAMLError:
            current = None
        current = current if isinstance(current, dict) else {}
        join = "cluster-init" if current.get("cluster-init") else ("server" if current.get("server") else "")
        survey.append({"host": host, "address": address or host, "reachable": True, "token": _content(kept_token),
                       "role_token": _content(role_token),
                       "initialised": bool(store.get("stat", {}).get("exists")), "config_join": join})
    return survey


def _join_plan(servers: list, this_host: str, api_endpoint: str, api_port: int, inventory_token: str = "") -> dict:
    """How one node joins, decided from what every server of the group holds already.

    `servers`: one entry per server, in inventory order: host, address, token (K3s's own server/token, or ""),
    role_token (the token file this role wrote, or ""), initialised (K3s data with a datastore), and config_join
    ("cluster-init", "server" or "" from the node's current config.yaml).

    Returns cluster_init (only when no server of the group holds a cluster yet, on the first one), server_url,
    token and reason. A token is never generated here: "" means the caller generates one."""
    if not servers:
        raise ValueError("the server group is empty")
    holders = [server for server in servers if server.get("initialised")]
    unknown = [server["host"] for server in servers if server.get("reachable") is False]
    this = next((server for server in servers if server["host"] == this_host), None)

    kept = [(server["host"], server["token"]) for server in servers if server.get("token")]
    written = [(server["host"], server["role_token"]) for server in servers if server.get("role_token")]
    if kept:
        token, source = kept[0][1], f"K3s's own token on {kept[0][0]}"
        if any(not _token_matches(token, other) for _host, other in kept[1:]):
            raise ValueError("the servers hold different K3s tokens (" + ", ".join(pair[0] for pair in kept)
                             + "): they belong to different clusters")
    elif written:
        token, source = written[0][1], f"the token file on {written[0][0]}"
    else:
        token, source = "", "no server holds a token yet"
    if inventory_token:
        if token and not _token_matches(token, inventory_token) and not _token_matches(inventory_token, token):
            raise ValueError(f"k3s_token differs from {source}: rotate it on the cluster first (k3s token rotate) "
                             "or remove k3s_token from the inventory; neither value is shown")
        if not token:
            token, source = inventory_token, "k3s_token from the inventory"

    url = f"https://{api_endpoint}:{api_port}"
    others = [server for server in holders if server["host"] != this_host]
    if this is not None and this.get("initialised"):
        # A server that holds data keeps how it was started (rewriting it would restart K3s for nothing); one
        # adopted from K3s's install script has no config.yaml, and is the cluster's origin when it is alone.
        initialises = this["config_join"] == "cluster-init" if this.get("config_join") else not others
        how = f"its {this['config_join']} setting is kept" if this.get("config_join") else (
            "it is the only one, so it keeps the cluster it holds" if initialises else "it stays joined")
        return {"cluster_init": initialises, "server_url": "" if initialises else url, "token": token,
                "token_source": source, "reason": f"{this_host} already holds cluster data; {how}"}
    if not holders:
        if unknown:
            # Initialising while a server that may hold the cluster is out of reach would split the cluster in two.
            raise ValueError("cannot tell whether " + ", ".join(unknown) + " already hold the cluster (unreachable);"
                             " bring them back or remove them from the server group")
        first = servers[0]["host"]
        if this_host == first:
            return {"cluster_init": True, "server_url": "", "token": token, "token_source": source,
                    "reason": f"no server holds a cluster yet: {first} initialises it"}
        return {"cluster_init": False, "server_url": url, "token": token, "token_source": source,
                "reason": f"joins the cluster {first} initialises"}
    # Some server holds the cluster: never initialise a second one (a rebuilt first server joins too). Join through
    # the API endpoint unless it is this very host, which has no cluster to answer with yet.
    if this is not None and api_endpoint in (this_host, this.get("address")) and others:
        url = f"https://{others[0].get('address') or others[0]['host']}:{api_port}"
    return {"cluster_init": False, "server_url": url, "token": token, "token_source": source,
            "reason": f"joins the cluster {holders[0]['host']} holds"}


def k3s_join_plan(servers: list, this_host: str, api_endpoint: str, api_port: int, inventory_token: str = "") -> dict:
    """_join_plan, with a refusal returned as `error` instead of raised: the task that computes the plan hides its
    output (it holds the token), so the reason is reported by the next task."""
    try:
        return {**_join_plan(servers, this_host, api_endpoint, api_port, inventory_token), "error": ""}
    except ValueError as error:
        return {"error": str(error), "token": "", "cluster_init": False, "server_url": "", "reason": "",
                "token_source": ""}


def k3s_etcd_snapshot_problems(snapshot) -> str:
    """What is wrong with k3s_etcd_snapshot (every problem, each naming its field), or "" - for the role's check
    before anything is written."""
    try:
        etcd_snapshot_config(snapshot)
    except ValueError as error:
        return str(error)
    return ""


class FilterModule:
    def filters(self):
        return {"k3s_config": k3s_config, "k3s_node_labels": k3s_node_labels, "k3s_join_plan": k3s_join_plan,
                "k3s_server_survey": k3s_server_survey, "k3s_etcd_snapshot_problems": k3s_etcd_snapshot_problems}
