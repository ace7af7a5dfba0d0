# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubectl with single sign-on (module_utils/platform/kube_sso.py): the kube-apiserver's authentication
configuration the K3s and kind roles write, and the kubeconfig the platform role writes for SSO users."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.data import plain_data
from ansible_collections.aphex.platform.plugins.module_utils.naming import sso_group
from ansible_collections.aphex.platform.plugins.module_utils.platform import kube_sso


def kube_authentication_config(settings, where: str = "oidc") -> dict:
    try:
        return kube_sso.authentication_configuration(plain_data(settings or {}), where)
    except kube_sso.SsoSettingsError as error:
        raise AnsibleFilterError(str(error)) from None


def sso_kubeconfig(admin_kubeconfig, settings, context: str = "") -> dict:
    try:
        return kube_sso.sso_kubeconfig_from(plain_data(admin_kubeconfig), plain_data(settings), context or "")
    except kube_sso.SsoSettingsError as error:
        raise AnsibleFilterError(str(error)) from None


def sso_group_subjects(groups) -> list:
    return [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": sso_group(group)}
            for group in plain_data(groups or [])]


class FilterModule:
    def filters(self):
        return {"kube_authentication_config": kube_authentication_config, "sso_kubeconfig": sso_kubeconfig,
                "sso_group_subjects": sso_group_subjects}
