"""aphex.platform.artifact is an action plugin whose documentation lives here: the options documented are exactly
those the action accepts (an option documented but refused, or taken but undocumented, fails here). The action's
behaviour: tests/unit/plugins/action/test_artifact.py."""
from __future__ import annotations

import yaml
from ansible_collections.aphex.platform.plugins.action.artifact import ActionModule
from ansible_collections.aphex.platform.plugins.modules import artifact

DOCUMENTED = yaml.safe_load(artifact.DOCUMENTATION)


def test_the_documented_options_are_the_ones_the_action_accepts():
    assert set(DOCUMENTED["options"]) == set(ActionModule._VALID_ARGS)  # pylint: disable=protected-access


def test_a_checksum_is_required_unless_the_play_says_otherwise():
    assert DOCUMENTED["options"]["require_checksum"] == {**DOCUMENTED["options"]["require_checksum"],
                                                         "type": "bool", "default": True}
    assert DOCUMENTED["options"]["dest"]["required"] is True
    assert DOCUMENTED["attributes"]["action"]["support"] == "full"
