# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the platform app catalog (module_utils/platform/catalog.py), for previews and inventory checks; the
platform_apps module renders and applies the same."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aphex.platform.plugins.module_utils.data import plain_data
from ansible_collections.aphex.platform.plugins.module_utils.platform import catalog as platform_apps


def _filter(function):
    def wrapped(*args, **kwargs):
        try:
            return function(*(plain_data(arg) for arg in args), **{key: plain_data(arg) for key, arg in kwargs.items()})
        except platform_apps.CatalogError as error:
            raise AnsibleFilterError(str(error)) from None
    wrapped.__name__ = function.__name__
    wrapped.__doc__ = function.__doc__
    return wrapped


class FilterModule:
    def filters(self):
        return {"platform_applications": _filter(platform_apps.platform_applications),
                "platform_root_application": _filter(platform_apps.platform_root_application),
                "platform_waves": _filter(platform_apps.platform_waves),
                "platform_tenant_ingress_namespaces": _filter(platform_apps.tenant_ingress_namespaces)}
