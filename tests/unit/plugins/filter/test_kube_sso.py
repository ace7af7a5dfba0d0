"""The filters the K3s, kind and platform roles render kubectl's single sign-on with (plugins/filter/kube_sso.py)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.filter.kube_sso import (
    FilterModule, kube_authentication_config, sso_group_subjects, sso_kubeconfig)


def test_the_filters_are_registered_by_their_documented_names():
    assert set(FilterModule().filters()) == {"kube_authentication_config", "sso_kubeconfig", "sso_group_subjects"}


def test_a_settings_error_is_a_filter_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="kind_cluster_oidc.issuer_url"):
        kube_authentication_config({"issuer_url": "dex.example.com"}, "kind_cluster_oidc")
    with pytest.raises(AnsibleFilterError, match="no usable context"):
        sso_kubeconfig({}, {"issuer_url": "https://dex.example.com"})


def test_empty_settings_turn_the_issuer_off():
    assert kube_authentication_config(None)["jwt"] == []


def test_groups_become_prefixed_group_subjects():
    assert sso_group_subjects(["platform-admins"]) == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:platform-admins"}]
    assert sso_group_subjects(None) == []
