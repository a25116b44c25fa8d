"""Kafka security settings: validation, the options each client library gets, and no secret leaks."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import faust
import pytest
from pydantic import ValidationError

from streams.config import KafkaSettings, Settings
from streams.kafka_clients import client_options, describe_failure, faust_credentials, ssl_context
from streams.localkafka.secure import create_secure_files

SECRET = "s3cret-Pa55word-never-shown"


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = create_secure_files(tmp_path_factory.mktemp("tls"))
    return files.directory


def sasl_ssl(tls_dir: Path, **extra: Any) -> KafkaSettings:
    return KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="flashpoint",
        sasl_password=SECRET,  # type: ignore[arg-type]  # pydantic converts str to SecretStr
        ssl_cafile=str(tls_dir / "ca.pem"),
        **extra,
    )


def test_plaintext_is_the_default_and_needs_nothing() -> None:
    kafka = Settings().kafka
    assert kafka.security_protocol == "PLAINTEXT"
    assert ssl_context(kafka) is None
    assert faust_credentials(kafka) is None
    assert client_options(kafka) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": SECRET}, "sasl_mechanism"),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_password": SECRET},
            "username",
        ),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u"}, "sasl_password"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"}, "no such file"),
        ({"security_protocol": "SSL", "ssl_certfile": "/etc/hostname"}, "both ssl_certfile and ssl_keyfile"),
        ({"security_protocol": "PLAINTEXT", "sasl_username": "u"}, "security_protocol is PLAINTEXT"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
        ({"security_protocol": "TLS"}, "security_protocol"),
    ],
)
def test_inconsistent_settings_are_rejected_without_quoting_secrets(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, str], complaint: str
) -> None:
    for name, value in fields.items():
        monkeypatch.setenv(f"FLASHPOINT_KAFKA__{name.upper()}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    text = str(caught.value)
    assert complaint in text
    assert SECRET not in text


def test_secrets_are_masked_in_every_dump(tls_dir: Path) -> None:
    settings = Settings(kafka=sasl_ssl(tls_dir, ssl_key_password=SECRET))
    for text in (str(settings), repr(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert SECRET not in text
    assert settings.kafka.password() == SECRET


def test_password_file_is_read_when_a_client_is_built(tmp_path: Path, tls_dir: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="u",
        sasl_password_file=str(secret_file),
    )
    assert client_options(kafka)["sasl_plain_password"] == SECRET
    secret_file.write_text("rotated")
    assert client_options(kafka)["sasl_plain_password"] == "rotated"


def test_sasl_ssl_gives_both_libraries_the_same_user_and_a_verifying_context(tls_dir: Path) -> None:
    kafka = sasl_ssl(tls_dir)
    options = client_options(kafka)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("flashpoint", SECRET)
    context = options["ssl_context"]
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert options["ssl_check_hostname"] is True

    credentials = faust_credentials(kafka)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("flashpoint", SECRET)
    assert credentials.ssl_context is not None
    assert credentials.ssl_context.check_hostname
    assert SECRET not in repr(credentials)


def test_sasl_plaintext_has_no_tls() -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="u",
        sasl_password=SECRET,  # type: ignore[arg-type]
    )
    credentials = faust_credentials(kafka)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_PLAINTEXT"
    assert credentials.ssl_context is None
    assert "ssl_context" not in client_options(kafka)


def test_ssl_with_a_client_certificate_and_hostname_checking_off(tls_dir: Path) -> None:
    # The broker keystore (key first, then the chain) serves as a client certificate here.
    kafka = KafkaSettings(
        security_protocol="SSL",
        ssl_cafile=str(tls_dir / "ca.pem"),
        ssl_certfile=str(tls_dir / "broker.pem"),
        ssl_keyfile=str(tls_dir / "broker.pem"),
        ssl_check_hostname=False,
    )
    credentials = faust_credentials(kafka)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.context.check_hostname is False
    options = client_options(kafka)
    assert options["security_protocol"] == "SSL"
    assert options["ssl_check_hostname"] is False
    assert "sasl_mechanism" not in options


def test_failures_are_described_by_their_cause() -> None:
    untrusted = ssl.SSLCertVerificationError(1, "certificate verify failed")
    untrusted.verify_message = "self-signed certificate in certificate chain"
    wrapped = RuntimeError("Unable to bootstrap")
    wrapped.__cause__ = untrusted
    assert "not trusted (self-signed certificate" in (describe_failure(wrapped) or "")

    class SaslAuthenticationFailedError(Exception):
        pass

    line = describe_failure(SaslAuthenticationFailedError(f"password {SECRET} wrong"))
    assert line is not None
    assert "SASL authentication failed" in line
    assert SECRET not in line
    assert describe_failure(ConnectionRefusedError()) is None


def test_a_registered_secret_is_masked_in_every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    from streams.log_redaction import MASK, redact_secrets

    secret = "s3cret-" + "9f41c7"
    redact_secrets(secret)
    with caplog.at_level(logging.DEBUG):
        config = {"sasl_plain_password": secret}
        logging.getLogger("kafka.admin.client").debug("Starting with config %r", config)
        logging.getLogger("anything.else").warning(f"inline {secret} too")
    assert len(caplog.records) == 2
    assert secret not in caplog.text
    assert caplog.text.count(MASK) == 2
