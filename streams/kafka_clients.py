"""How every Kafka client of the project connects: one place that turns :class:`KafkaSettings` into
the options of the Faust worker (aiokafka) and of the kafka-python admin, producer and consumer.

Both client libraries get the same :class:`ssl.SSLContext` (the configured CA or the system trust
store, the client certificate for mutual TLS, hostname checking on unless turned off) and the same
SASL user. Secrets are read here, when a client is built, and go nowhere else: no exception
text, and no log line (each is registered with :mod:`streams.log_redaction`, which masks it in
any record, the client libraries' own DEBUG lines included). :func:`describe_failure` turns a
connection failure into one line naming its cause.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

from kafka.errors import KafkaError

from streams.config import KafkaSettings
from streams.log_redaction import redact_secrets

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of an SSL or SASL_SSL connection (``None`` for the plaintext protocols)."""
    if not kafka.uses_tls:
        return None
    redact_secrets(kafka.ssl_key_password.get_secret_value())
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=kafka.ssl_cafile or None)
    context.check_hostname = kafka.ssl_check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if kafka.ssl_certfile:
        context.load_cert_chain(
            kafka.ssl_certfile,
            kafka.ssl_keyfile,
            password=kafka.ssl_key_password.get_secret_value() or None,
        )
    return context


def faust_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """The Faust app's ``broker_credentials`` (``None``: plaintext, Faust's default)."""
    import faust  # here: the CLI's Kafka commands need no Faust

    context = ssl_context(kafka)
    if kafka.uses_sasl:
        redact_secrets(kafka.password())
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.password(),
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,  # None keeps SASL_PLAINTEXT, a context makes it SASL_SSL
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for ``KafkaAdminClient``, ``KafkaProducer`` and ``KafkaConsumer``."""
    options: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    context = ssl_context(kafka)
    if context is not None:
        # kafka-python ignores its other ssl_* options when it is given a context.
        options["ssl_context"] = context
        options["ssl_check_hostname"] = kafka.ssl_check_hostname
    if kafka.uses_sasl:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = kafka.password()
        redact_secrets(options["sasl_plain_password"])
    return options


def describe_failure(exc: BaseException) -> str | None:
    """One line naming why a secured connection failed, or ``None`` when it is no such failure.

    Looks through the exception's causes for a refused SASL login or an untrusted certificate;
    the line never quotes a credential.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ssl.SSLCertVerificationError):
            return (
                f"TLS: the broker's certificate is not trusted ({current.verify_message}); "
                "check kafka.ssl_cafile"
            )
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake with the broker failed ({current.reason or name})"
        if "SaslAuthenticationFailed" in name or "AuthenticationFailed" in name:
            return f"SASL authentication failed: the broker refused the user or password ({name})"
        current = current.__cause__ or current.__context__
    return None


class KafkaAccessError(KafkaError):  # type: ignore[misc]  # kafka-python is untyped
    """The broker was reached but refused the connection's TLS or SASL credentials."""


def check_access(servers: str, kafka: KafkaSettings, timeout_s: float = 10.0) -> None:
    """Fail fast, in one line, when the brokers refuse the settings' TLS or SASL credentials.

    Opens one connection (TLS handshake and SASL login, as a client would) to each bootstrap
    server until one accepts. A refused login or an untrusted certificate raises
    :class:`KafkaAccessError` naming the cause; an unreachable broker is left to the client's
    own bounded wait. Plaintext settings are not checked.
    """
    if kafka.security_protocol == "PLAINTEXT":
        return
    failure = asyncio.run(_first_refusal(servers, kafka, timeout_s))
    if failure is not None:
        raise KafkaAccessError(failure)


async def _first_refusal(servers: str, kafka: KafkaSettings, timeout_s: float) -> str | None:
    from aiokafka.conn import create_conn

    options = client_options(kafka)
    options.pop("ssl_check_hostname", None)
    refusal = None
    for server in servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout_s * 1000), **options), timeout_s
            )
        except Exception as exc:  # classified below; its text is never quoted
            refusal = describe_failure(exc) or refusal
            continue
        conn.close()
        return None
    return refusal
