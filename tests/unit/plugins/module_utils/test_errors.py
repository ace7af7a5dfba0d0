"""One error base: each concern's error is an AphexError whose details the runner reports as result keys."""
import pytest
from ansible_collections.aphex.platform.plugins.module_utils.errors import AphexError
from ansible_collections.aphex.platform.plugins.module_utils.kube.client import ClusterApiError, ConflictError, MissingApiError
from ansible_collections.aphex.platform.plugins.module_utils.kube.run_lock import LockError
from ansible_collections.aphex.platform.plugins.module_utils.platform.catalog import CatalogError
from ansible_collections.aphex.platform.plugins.module_utils.runner import MissingLibraryError
from ansible_collections.aphex.platform.plugins.module_utils.tenancy.validation import TenantValidationError


@pytest.mark.parametrize("error_type", [ClusterApiError, ConflictError, MissingApiError, LockError, CatalogError])
def test_every_concerns_error_is_an_aphex_error(error_type):
    error = error_type("what is wrong")
    assert isinstance(error, AphexError)
    assert str(error) == "what is wrong" and error.details == {}


def test_details_are_kept_for_the_result():
    assert AphexError("bad", problems=["a", "b"]).details == {"problems": ["a", "b"]}
    assert TenantValidationError(["x: y"]).details == {"problems": ["x: y"]}
    assert MissingLibraryError("cloudflare", "Traceback").details == {"exception": "Traceback"}
