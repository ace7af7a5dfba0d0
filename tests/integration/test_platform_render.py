"""Issue 10 item 3: every app of the kind and the k3s catalogs, the collection's own manifest sets and the Tekton
release manifests included, rendered with the pinned Helm from the chart mirror and applied to a control plane of
its own in wave order - CRDs before their objects - with zero errors. Webhook configurations and APIServices are
validated by a server-side dry run instead: created, the kube-apiserver would call them."""
from __future__ import annotations

import json

import pytest

from harness.platform.catalog import folder_documents, rendered_platform
from harness.platform.render import Applier, render
from harness.platform.stack import HELM, build_mirror, go_tool

DOMAIN = "render.aphex.test"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    helm = go_tool(*HELM)
    return helm, build_mirror(tmp_path_factory.mktemp("mirror"), helm)


@pytest.mark.parametrize("deployment_type", ["kind", "k3s"])
def test_every_app_renders_and_the_api_server_accepts_it(deployment_type, mirror, bare_control_plane):
    helm, folder = mirror
    release_sets = {path.parent.parent.name: folder_documents(path.parent)
                    for path in (folder / "releases").glob("*/*/*.yaml")}
    assert set(release_sets) == {"tekton-triggers", "tekton-dashboard"}
    # Through JSON: Ansible's templated strings are str subclasses that YAML dumpers refuse.
    children = json.loads(json.dumps(rendered_platform(deployment_type, DOMAIN, release_sets=release_sets,
                                                       chart_mirror="http://127.0.0.1:1/charts")["applications"]))
    applier = Applier(bare_control_plane.bin / "kubectl", bare_control_plane.admin_kubeconfig)
    # ArgoCD's namespace exists before any app: the bootstrap installs ArgoCD first.
    errors = applier.apply("argocd", None, [], create_namespace=False) + applier.apply(
        "argocd", "argocd", [], create_namespace=True)
    counts = {}
    for name, child in sorted(children.items(),
                              key=lambda item: (int(item[1]["additionalAnnotations"]["argocd.argoproj.io/sync-wave"]),
                                                item[0])):
        documents = render(helm, name, child, folder / "charts")
        counts[name] = len(documents)
        errors += applier.apply(name, child["destination"].get("namespace"), documents,
                                "CreateNamespace=true" in child["syncPolicy"]["syncOptions"])
    print(f"{deployment_type}: {sum(counts.values())} objects from {len(counts)} apps: {counts}")
    assert errors == [], "\n".join(errors)
    assert all(counts.values()), counts
    assert bare_control_plane.egress_attempts() == []
