"""Every module fails the same way: an AphexError (any concern's subclass) becomes fail_json with its message, the
result so far and its details; anything else is a bug and keeps its traceback."""
import pytest

from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError, failing_on
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApiError
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import CatalogError
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError


class Failed(Exception):
    pass


class RecordingModule:
    def __init__(self):
        self.failure = None

    def fail_json(self, **result):
        self.failure = result
        raise Failed  # AnsibleModule.fail_json never returns


@pytest.mark.parametrize("error, expected", [
    (ClusterApiError("Secret a/b: forbidden"), {"msg": "Secret a/b: forbidden", "holder": "me"}),
    (CatalogError("platform app 'x' is defined twice"), {"msg": "platform app 'x' is defined twice", "holder": "me"}),
    (TenantValidationError(["aphex_organizations[0]: must be a mapping"]),
     {"msg": "invalid tenant inventory:\n  - aphex_organizations[0]: must be a mapping", "holder": "me",
      "problems": ["aphex_organizations[0]: must be a mapping"]}),
])
def test_each_concerns_error_becomes_the_same_failure(error, expected):
    module, result = RecordingModule(), {}
    with pytest.raises(Failed):
        with failing_on(module, result):
            result["holder"] = "me"  # the result as it stands when the error comes
            raise error
    assert isinstance(error, AphexError)
    assert module.failure == expected


def test_anything_else_is_not_turned_into_a_failure():
    module = RecordingModule()
    with pytest.raises(KeyError):
        with failing_on(module):
            raise KeyError("a bug")
    assert module.failure is None
