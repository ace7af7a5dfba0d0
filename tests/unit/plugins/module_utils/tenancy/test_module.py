"""The organization and pipeline modules' shared body: the settings their arguments make, and what a successful
run echoes of the inventory. Through the modules' main(): tests/unit/plugins/modules/test_organization.py."""
from __future__ import annotations

from ansible_collections.aphex.platform.plugins.module_utils.tenancy.module import (
    TENANCY_ARGS, echoed_arguments, settings_from)
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.render import CLOUDFLARED_IMAGE, DEFAULT_QUOTA


def defaults(**given) -> dict:
    return {**{name: spec.get("default") for name, spec in TENANCY_ARGS.items()}, **given}


def test_quotas_go_over_the_default_quota_as_text():
    settings = settings_from(defaults(quota={"pods": 40, "limits.cpu": "16"}))
    assert settings.quota == {**DEFAULT_QUOTA, "pods": "40", "limits.cpu": "16"}


def test_an_empty_cloudflared_image_is_the_pinned_release():
    assert settings_from(defaults()).cloudflared_image == CLOUDFLARED_IMAGE
    assert settings_from(defaults(cloudflared_image="mirror/cloudflared:1")).cloudflared_image == "mirror/cloudflared:1"


def test_the_tenant_lists_are_echoed_as_counts_and_the_rest_as_given():
    params = defaults(organizations=[{"name": "a"}, {"name": "b"}], pipelines=None, webhook_domain="hooks.example")
    echoed = echoed_arguments(params)["module_args"]
    assert echoed["organizations"] == "(2 entries, as in the inventory)"
    assert echoed["pipelines"] == "(0 entries, as in the inventory)"
    assert echoed["webhook_domain"] == "hooks.example"
    assert params["organizations"] == [{"name": "a"}, {"name": "b"}]  # the arguments themselves are untouched
