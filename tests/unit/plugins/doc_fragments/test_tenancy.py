"""The tenancy doc fragment documents exactly the tenancy arguments of the organization and pipeline modules, with
their types, defaults and choices, so that ansible-doc shows what the modules take."""
from __future__ import annotations

import yaml
from ansible_collections.aphex.platform.plugins.doc_fragments.tenancy import ModuleDocFragment
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.module import TENANCY_ARGS

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)


def test_every_tenancy_argument_is_documented_as_it_is_declared():
    assert set(DOCUMENTED["options"]) == set(TENANCY_ARGS)
    for name, spec in TENANCY_ARGS.items():
        documented = DOCUMENTED["options"][name]
        assert documented["type"] == spec["type"], name
        assert documented.get("default") == spec.get("default"), name
        assert documented.get("choices") == spec.get("choices"), name
        assert documented.get("elements") == spec.get("elements"), name


def test_check_and_diff_mode_are_declared_supported():
    assert DOCUMENTED["attributes"]["check_mode"]["support"] == "full"
    assert DOCUMENTED["attributes"]["diff_mode"]["support"] == "full"
