"""Throwaway PKI for the loopback-only test control plane.

Two CAs: one signs the API server's serving certificate, the other signs
client certificates (CN = user name, O = groups), which is how the admin,
the controller manager and the non-admin test users authenticate. The client
CA's key is kept so tests can add users after start.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=30)


IN_CLUSTER_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")


def private_key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, data: bytes) -> Path:
    """Write DATA to PATH readable by its owner only, from the first byte (a file left by an earlier run included)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    return path


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, key_cert_sign=cert_sign, crl_sign=cert_sign,
        content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, encipher_only=False, decipher_only=False,
    )


class CertificateAuthority:
    """A self-signed ECDSA CA, created fresh or loaded from its two PEM files."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.cert = cert
        self.key = key

    @classmethod
    def create(cls, common_name: str) -> "CertificateAuthority":
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def load(cls, cert_path: Path, key_path: Path) -> "CertificateAuthority":
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return cls(cert, key)

    def save(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.cert_pem())
        write_private(key_path, private_key_pem(self.key))

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name: str, *, groups=(), server=False, ips=(), dns=()) -> tuple[bytes, bytes]:
        """Return (certificate PEM, key PEM) for a client or, with server=True, a serving cert."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            # Python 3.13's stricter X.509 verification requires the AKI.
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        names = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        names += [x509.DNSName(name) for name in dns]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), private_key_pem(key)


class Pki:
    """The files kube-apiserver and kube-controller-manager are started with."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.serving_ca = directory / "serving-ca.crt"
        self.serving_cert = directory / "apiserver.crt"
        self.serving_key = directory / "apiserver.key"
        self.client_ca = directory / "client-ca.crt"
        self.client_ca_key = directory / "client-ca.key"
        # One PKCS#8 RSA key is both the signing key and (its public half) the
        # verification key for service-account tokens.
        self.service_account_key = directory / "service-account.key"

    def create(self) -> "Pki":
        self.directory.mkdir(parents=True, exist_ok=True)
        serving = CertificateAuthority.create("aphex-test-serving-ca")
        self.serving_ca.write_bytes(serving.cert_pem())
        # The names pods reach the API server by, as a cluster's serving certificate carries them: a local process
        # standing in for a controller is sent to this API server when it dials one (egress_guard.py routes them).
        cert, key = serving.issue("kube-apiserver", server=True, ips=["127.0.0.1"], dns=["localhost", *IN_CLUSTER_NAMES])
        self.serving_cert.write_bytes(cert)
        write_private(self.serving_key, key)
        CertificateAuthority.create("aphex-test-client-ca").save(self.client_ca, self.client_ca_key)
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write_private(self.service_account_key, private_key_pem(sa_key))
        return self

    def issue_client(self, user: str, groups=()) -> tuple[bytes, bytes]:
        return CertificateAuthority.load(self.client_ca, self.client_ca_key).issue(user, groups=groups)
