# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the k3s role renders its configuration with."""

from __future__ import annotations

import re

GPU_LABEL_PREFIX = "aphex.io/gpu"
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


def k3s_config(settings: dict) -> dict:
    """config.yaml for one node. The token stays in its own file (token-file) so this file is never secret."""
    role = settings["role"]
    if role not in ("server", "agent"):
        raise ValueError(f"k3s node role must be server or agent, not {role!r}")
    config = {"token-file": settings["token_file"], "node-name": settings["node_name"]}
    if role == "server":
        config["write-kubeconfig-mode"] = "0600"
        if settings.get("primary"):
            config["cluster-init"] = True
        else:
            config["server"] = settings["server_url"]
        if settings.get("tls_san"):
            config["tls-san"] = list(settings["tls_san"])
        if settings.get("disable"):
            config["disable"] = list(settings["disable"])
    else:
        config["server"] = settings["server_url"]
    labels = node_labels(settings)
    if labels:
        config["node-label"] = [f"{key}={value}" for key, value in sorted(labels.items())]
    if settings.get("node_taints"):
        config["node-taint"] = list(settings["node_taints"])
    if settings.get("gpu") and settings.get("gpu_default_runtime"):
        config["default-runtime"] = "nvidia"
    config.update(settings.get("extra") or {})
    return config


def k3s_node_labels(settings: dict) -> list:
    """The node's labels as key=value arguments for kubectl label."""
    return [f"{key}={value}" for key, value in sorted(node_labels(settings).items())]


class FilterModule:
    def filters(self):
        return {"k3s_config": k3s_config, "k3s_node_labels": k3s_node_labels}
