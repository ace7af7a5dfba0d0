"""Issue 10 item 4, cert-manager for real: the kind catalog's certificates (a self-signed platform CA, a CA
ClusterIssuer, ArgoCD's copy of the CA) are issued by cert-manager's own controllers - built from the Go module of
the release the catalog pins, run as the chart's ServiceAccount (harness/platform/stack.py) - and ArgoCD's own
health checks for cert-manager's kinds, with no stand-in, say Healthy only once they are. The k3s catalog's ACME
issuer cannot be served here (Let's Encrypt and Cloudflare are outside loopback): test_platform_sync.py stands in
for it alone."""
from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from kubernetes import client

from harness.controlplane.audit import AuditLog
from harness.platform.live import TEST_MODE, applications, bootstrapped_platform, only_apps
from harness.kube import get
from harness.platform.stack import CERT_MANAGER_CONTROLLER

KEPT = {"cert-manager", "cert-manager-ready", "certificates"}


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    with bootstrapped_platform(tmp_path_factory.mktemp("platform-certificates"), "kind", TEST_MODE,
                               aphex_apps_overrides=only_apps("kind", KEPT)) as platform:
        yield platform


def certificate(api, name: str, namespace: str) -> tuple[dict, x509.Certificate, dict]:
    """The Certificate, the certificate in its Secret and the Secret's data."""
    resource = get(api, "cert-manager.io/v1", "Certificate", name, namespace)
    data = client.CoreV1Api(api).read_namespaced_secret(resource["spec"]["secretName"], namespace).data
    return resource, x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"])), data


def test_the_kind_catalogs_certificates_are_issued_by_the_real_controller(issued):
    run, api = issued["first"], issued["api"]
    assert run.returncode == 0, run.output[-4000:]
    settings = get(api, "v1", "ConfigMap", "argocd-cm", "argocd")["data"]
    assert not [key for key in settings if "cert-manager.io" in key]  # ArgoCD's own health checks
    apps = applications(api)
    assert {name: (app["status"]["sync"]["status"], app["status"]["health"]["status"])
            for name, app in apps.items() if name != "platform-root"} == {
        name: ("Synced", "Healthy") for name in KEPT}

    for name in ("selfsigned-issuer", "platform-ca"):
        conditions = get(api, "cert-manager.io/v1", "ClusterIssuer", name)["status"]["conditions"]
        assert [(c["type"], c["status"]) for c in conditions] == [("Ready", "True")], (name, conditions)

    # The CA issuer is made only once the CA certificate's secret exists (sync waves inside the app): made
    # before it, it reported Ready=False, which ArgoCD's issuer health calls Degraded, failing the wave (seen in CI).
    issuer_made = get(api, "cert-manager.io/v1", "ClusterIssuer", "platform-ca")["metadata"]["creationTimestamp"]
    secret_made = get(api, "v1", "Secret", "platform-ca", "cert-manager")["metadata"]["creationTimestamp"]
    assert issuer_made >= secret_made, (issuer_made, secret_made)
    ca_resource, ca, _ca_data = certificate(api, "platform-ca", "cert-manager")
    leaf_resource, leaf, leaf_data = certificate(api, "argocd-platform-ca", "argocd")
    for resource in (ca_resource, leaf_resource):
        ready = {c["type"]: c["status"] for c in resource["status"]["conditions"]}
        assert ready == {"Ready": "True"}, resource["status"]
    # The platform CA: self-signed, a CA, the common name and key the Certificate asks for.
    assert ca.issuer == ca.subject
    assert ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "Aphex platform CA"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.public_key().verify(ca.signature, ca.tbs_certificate_bytes, ec.ECDSA(ca.signature_hash_algorithm))
    # ArgoCD's copy: signed by that CA, which the Secret carries as ca.crt (what argocd-cm's rootCA reads).
    assert leaf.issuer == ca.subject
    ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))
    assert base64.b64decode(leaf_data["ca.crt"]) == ca.public_bytes(Encoding.PEM)
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["argocd-platform-ca.argocd.svc"]


def test_the_certificates_status_is_written_by_cert_managers_identity(issued):
    writes = [event for event in AuditLog(issued["plane"].audit_log).writes()
              if event.resource in ("certificates", "certificaterequests", "clusterissuers")
              and event.uri.split("?")[0].endswith("/status")]
    assert {event.user for event in writes} == {CERT_MANAGER_CONTROLLER}, writes[:5]
    certificates = {event.name for event in writes if event.resource == "certificates"}
    assert certificates == {"platform-ca", "argocd-platform-ca"}


def test_nothing_tried_to_leave_loopback(issued):
    assert issued["plane"].egress_attempts() == []
