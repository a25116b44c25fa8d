"""A secured local cluster (``flashpoint kafka up --secure``): a throw-away CA, the brokers' and
the client's certificates, SCRAM users and the ``server.properties`` lines of a SASL_SSL listener.

Clients reach the brokers over SASL_SSL with SCRAM-SHA-512 and mutual TLS: they verify the broker
certificate (issued for 127.0.0.1 and localhost) against the generated CA and present a client
certificate from the same CA, which the brokers require; the controllers stay PLAINTEXT on
loopback. Two SCRAM users are created when storage is formatted: ``broker`` for the traffic
between brokers and ``flashpoint`` for clients. Passwords are random and live only in files of
the cluster's work dir (mode 0600), deleted with it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from streams.localkafka.errors import KafkaLauncherError

MECHANISM = "SCRAM-SHA-512"
CLIENT_USER = "flashpoint"
BROKER_USER = "broker"
#: The generated certificates are valid this long: a local cluster lives for a test session.
VALIDITY = datetime.timedelta(days=7)


@dataclass(frozen=True)
class SecureFiles:
    """Where a secured cluster's CA, broker keystore and passwords are."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients trust (PEM)."""
        return self.directory / "ca.pem"

    @property
    def broker_keystore(self) -> Path:
        """The brokers' private key and certificate chain (PEM keystore)."""
        return self.directory / "broker.pem"

    @property
    def client_certfile(self) -> Path:
        """The client's certificate (PEM), for mutual TLS."""
        return self.directory / "client.pem"

    @property
    def client_keyfile(self) -> Path:
        """The client certificate's private key (PEM, unencrypted, mode 0600)."""
        return self.directory / "client.key"

    @property
    def client_password_file(self) -> Path:
        """The password of the client user."""
        return self.directory / "client.password"

    @property
    def broker_password_file(self) -> Path:
        """The password brokers use to log in to each other."""
        return self.directory / "broker.password"

    def broker_password(self) -> str:
        """The brokers' own SCRAM password."""
        return self.broker_password_file.read_text().strip()

    def client_password(self) -> str:
        """The client user's SCRAM password."""
        return self.client_password_file.read_text().strip()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def create_secure_files(directory: Path) -> SecureFiles:
    """Generate a CA, the brokers' and the client's certificates and both users' passwords under
    ``directory``."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise KafkaLauncherError("--secure needs the cryptography package: pip install cryptography") from exc

    directory.mkdir(parents=True, exist_ok=True)
    files = SecureFiles(directory)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flashpoint local Kafka CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(
        common_name: str, usages: list[x509.ObjectIdentifier], names: list[x509.GeneralName]
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A key and a certificate for it, signed by the CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    broker_key, broker_cert = issue(
        "localhost",
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client_key, client_cert = issue(CLIENT_USER, [ExtendedKeyUsageOID.CLIENT_AUTH], [])

    pem = serialization.Encoding.PEM
    files.ca_file.write_bytes(ca_cert.public_bytes(pem))
    # Kafka's PEM keystore: an unencrypted PKCS#8 key, then the certificate chain.
    key_pem = broker_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(files.broker_keystore, key_pem + broker_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    files.client_certfile.write_bytes(client_cert.public_bytes(pem))
    _write_private(
        files.client_keyfile,
        client_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write_private(files.broker_password_file, secrets.token_hex(16).encode())
    _write_private(files.client_password_file, secrets.token_hex(16).encode())
    return files


def secure_properties(files: SecureFiles) -> dict[str, str]:
    """The ``server.properties`` entries of the SASL_SSL listener (listeners themselves aside)."""
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{BROKER_USER}" password="{files.broker_password()}";'
    )
    return {
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(files.broker_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.ca_file),
        # Mutual TLS: a client must present a certificate from the CA as well as its password.
        # Kafka ignores the broker-wide ssl.client.auth on SASL_SSL listeners; the listener's own
        # setting turns it on (KIP-684).
        "listener.name.sasl_ssl.ssl.client.auth": "required",
    }


def scram_format_args(files: SecureFiles) -> list[str]:
    """StorageTool ``format`` arguments that create both SCRAM users."""
    args = []
    for user, password in ((BROKER_USER, files.broker_password()), (CLIENT_USER, files.client_password())):
        args += ["--add-scram", f"{MECHANISM}=[name={user},password={password}]"]
    return args


def client_environment(files: SecureFiles) -> dict[str, str]:
    """The ``FLASHPOINT_KAFKA__*`` settings of a client of the secured cluster (no secret in them)."""
    return {
        "FLASHPOINT_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "FLASHPOINT_KAFKA__SASL_MECHANISM": MECHANISM,
        "FLASHPOINT_KAFKA__SASL_USERNAME": CLIENT_USER,
        "FLASHPOINT_KAFKA__SASL_PASSWORD_FILE": str(files.client_password_file),
        "FLASHPOINT_KAFKA__SSL_CAFILE": str(files.ca_file),
        "FLASHPOINT_KAFKA__SSL_CERTFILE": str(files.client_certfile),
        "FLASHPOINT_KAFKA__SSL_KEYFILE": str(files.client_keyfile),
    }
