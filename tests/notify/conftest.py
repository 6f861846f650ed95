"""Fixtures for notification tests: a real SMTP server and real HTTP receivers for the robots
and webhooks (tests/notify/receivers.py). The lead's end-to-end tests use them too."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from .receivers import Receiver, SmtpServer, self_signed_certificate

SMTP_USER, SMTP_PASSWORD = "landflow", "smtp-test-password"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running aiosmtpd server on a free port of 127.0.0.1; `.messages` lists the parsed
    mails it accepted. AUTH is offered for SMTP_USER/SMTP_PASSWORD (optional, no TLS needed);
    `.refuse(address)` answers 550 for an address; `.stop()` / `.start()` take it down and
    bring it back on the same port."""
    server = SmtpServer(users={SMTP_USER: SMTP_PASSWORD})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem paths)."""
    pytest.importorskip("cryptography")
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls_smtp_server(tls_certificate) -> Iterator[SmtpServer]:
    """Like `smtp_server`, but STARTTLS is offered with the self-signed certificate and
    required before MAIL; trust it with `tls_client_context`."""
    cert, key = tls_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(
        users={SMTP_USER: SMTP_PASSWORD}, tls_context=context, require_starttls=True
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_client_context(tls_certificate) -> ssl.SSLContext:
    """A client SSL context that trusts the test certificate (and verifies host names)."""
    return ssl.create_default_context(cafile=tls_certificate[0])


@pytest.fixture
def receiver(wall_clock) -> Iterator[Receiver]:
    """A running HTTP receiver with /dingtalk, /wecom and /webhook routes (see Receiver);
    signatures are checked against `wall_clock`, the clock channels sign with in tests.
    `receiver.fail(route, times, status=500 | errcode=N)` makes a route fail N times."""
    server = Receiver(now=wall_clock.now)
    server.start()
    yield server
    server.stop()
