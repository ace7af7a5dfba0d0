# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which cluster the connection options name, said without a credential, and the kubeconfig that is not there:
the words every connection failure is reported in."""

from __future__ import annotations

import os


def credentials_without_kubeconfig(auth: dict) -> bool:
    """What kubernetes.core takes as enough to connect without reading any kubeconfig."""
    return bool(auth.get("host")) and bool(auth.get("api_key") or (auth.get("cert_file") and auth.get("key_file"))
                                           or (auth.get("username") and auth.get("password")))


def missing_kubeconfig(auth: dict):
    """The message for a kubeconfig that is not there, naming the file(s) looked for; None when one will be read,
    or none is needed (credentials given, in-cluster, a kubeconfig given as a dict)."""
    if credentials_without_kubeconfig(auth) or isinstance(auth.get("kubeconfig"), dict):
        return None
    kubeconfig = auth.get("kubeconfig")
    if kubeconfig:
        source = "option kubeconfig (or K8S_AUTH_KUBECONFIG)"
    elif os.environ.get("KUBERNETES_SERVICE_HOST") and not auth.get("context"):
        return None  # in a pod: the service account's token is used (a context means a kubeconfig is read)
    else:
        kubeconfig = os.environ.get("KUBECONFIG") or "~/.kube/config"
        source = "the default, as neither kubeconfig nor host with credentials is set"
    files = [os.path.expanduser(path) for path in str(kubeconfig).split(os.pathsep) if path]
    if any(os.path.exists(path) for path in files):
        return None
    return f"no kubeconfig {', '.join(named(path) for path in files)} ({source})"


def named(path: str) -> str:
    """A kubeconfig path as messages show it. kubernetes.core marks the option no_log (it may be a dict holding
    credentials), so Ansible masks the whole string wherever it appears; a path is no secret, and naming its
    file and folder apart keeps the message readable."""
    return f"{os.path.basename(path)} in {os.path.dirname(path) or '.'}"


def describe(auth: dict) -> str:
    """Which cluster the options name, for messages (never a credential)."""
    kubeconfig = auth.get("kubeconfig")
    if credentials_without_kubeconfig(auth):
        where = f"host {auth['host']}"
    elif isinstance(kubeconfig, dict):
        where = "kubeconfig (given as a dict)"
    else:
        where = "kubeconfig " + (", ".join(named(path) for path in str(kubeconfig).split(os.pathsep) if path)
                                 if kubeconfig else "(default)")
    return where + (f" context {auth['context']}" if auth.get("context") else "")
