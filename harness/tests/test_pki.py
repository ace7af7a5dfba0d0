"""The throwaway PKI issues what kube-apiserver and its clients verify."""
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.controlplane.pki import Pki


def test_serving_certificate_covers_loopback_and_the_in_cluster_names_and_is_signed_by_the_serving_ca(tmp_path):
    pki = Pki(tmp_path).create()
    ca = x509.load_pem_x509_certificate(pki.serving_ca.read_bytes())
    cert = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # kubernetes.default...: what a controller run as a local process dials, led here by the egress guard.
    assert names.get_values_for_type(x509.DNSName) == [
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_client_certificates_carry_user_and_groups_and_private_keys_are_private(tmp_path):
    pki = Pki(tmp_path).create()
    cert_pem, _key_pem = pki.issue_client("alice", groups=["devs", "ops"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(pki.client_ca.read_bytes()))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["devs", "ops"]
    for key in (pki.serving_key, pki.client_ca_key, pki.service_account_key):
        assert key.stat().st_mode & 0o777 == 0o600
