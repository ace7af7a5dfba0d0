"""The builder go.mod must repeat every staging replace of the exact upstream go.mod."""
import pytest

from harness.controlplane.gen_gomod import render

UPSTREAM = """\
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
\tgithub.com/example/other => github.com/example/other v1.2.3
)
"""


def test_maps_each_staging_module_to_the_matching_published_tag():
    gomod = render(UPSTREAM, "v1.37.2")
    assert "require k8s.io/kubernetes v1.37.2" in gomod
    replaces = [line.strip() for line in gomod.splitlines() if "=>" in line]
    assert replaces == [
        "k8s.io/api => k8s.io/api v0.37.2",
        "k8s.io/client-go => k8s.io/client-go v0.37.2",
        "k8s.io/cri-streaming => k8s.io/cri-streaming v0.37.2",
    ]


def test_copies_the_go_and_godebug_lines():
    lines = render(UPSTREAM, "v1.37.2").splitlines()
    assert "go 1.26.0" in lines
    assert "godebug default=go1.26" in lines


@pytest.mark.parametrize("version", ["1.37.2", "v1.37", "v2.0.0", "v1.37.2-rc.1", ""])
def test_rejects_anything_but_a_release(version):
    with pytest.raises(ValueError, match="expected a release"):
        render(UPSTREAM, version)


def test_rejects_a_go_mod_without_staging_replaces():
    with pytest.raises(ValueError, match="no ./staging replace directives"):
        render("module k8s.io/kubernetes\n\ngo 1.26.0\n", "v1.37.2")
