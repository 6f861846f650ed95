"""Real receivers for the notification channels: an SMTP server (aiosmtpd) and an HTTP server
standing in for DingTalk / 浙政钉, WeCom and a webhook receiver. Each check is written from
the platform's documentation, independently of the channel code, except the webhook, which
uses our published verifier as a receiver would. Fixtures in conftest.py."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.services.notify.channels.webhook import verify_webhook

ROUTES = ("dingtalk", "wecom", "webhook")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that keeps every mail it accepts, parsed, in `messages`
    (and the raw bytes in `raw`, the envelope in `envelopes`, the signed-in user in `logins`).
    `refuse(address, reply)` makes RCPT TO answer e.g. 550 for that address; `users` enables
    AUTH (PLAIN/LOGIN, also without TLS); `tls_context` offers STARTTLS. `stop()` takes it down
    and `start()` brings it back on the same port."""

    def __init__(
        self,
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        tls_context: Any = None,
        require_starttls: bool = False,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.users = dict(users or {})
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str | None] = []
        self.refused: dict[str, str] = {}
        self._controller: Controller | None = None

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        self.refused[address] = reply

    def start(self) -> None:
        if self._controller is not None:
            return
        options: dict[str, Any] = {}
        if self.users:
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        if self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=self.require_starttls)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.owner.refused.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        self.owner.raw.append(raw)
        self.owner.messages.append(email.message_from_bytes(raw, policy=default_policy))
        self.owner.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.owner.logins.append(session.auth_data if session.authenticated else None)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Received:
    """One request a route took: its query, headers, raw body and parsed JSON."""

    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass
class _Failure:
    status: int
    errcode: int | None
    errmsg: str
    delay: float


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 with the routes
    - POST /dingtalk?access_token=…[&timestamp=…&sign=…]: checks the token and, when
      `dingtalk_secret` is set, DingTalk's 加签 within an hour of `now()`; answers
      {"errcode":0,"errmsg":"ok"}, 300001 for a wrong token, 310000 for a bad signature;
    - POST /wecom?key=…: checks the key (93000 otherwise) and the 4096-byte content limit;
    - POST /webhook: checks our signature with `verify_webhook` (401 otherwise).
    `received[route]` holds what was accepted, `attempts[route]` every request.
    `fail(route, times, status=500 | errcode=N, delay=s)` makes the next requests fail."""

    now: Callable[[], datetime]
    dingtalk_token: str = "dingtalk-test-token"
    dingtalk_secret: str | None = "SECdingtalk-test-secret"
    wecom_key: str = "wecom-test-key"
    webhook_secret: str = "webhook-test-secret"
    received: dict[str, list[Received]] = field(default_factory=lambda: _per_route())
    attempts: dict[str, list[Received]] = field(default_factory=lambda: _per_route())
    _failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    def url(self, route: str, **query: str) -> str:
        assert self._server is not None, "receiver not started"
        port = self._server.server_address[1]
        suffix = f"?{urlencode(query)}" if query else ""
        return f"http://127.0.0.1:{port}/{route}{suffix}"

    def dingtalk_url(self) -> str:
        return self.url("dingtalk", access_token=self.dingtalk_token)

    def wecom_url(self, key: str | None = None) -> str:
        return self.url("wecom", key=key or self.wecom_key)

    def fail(
        self,
        route: str,
        times: int = 1,
        status: int = 500,
        errcode: int | None = None,
        errmsg: str = "",
        delay: float = 0.0,
    ) -> None:
        queue = self._failures.setdefault(route, deque())
        queue.extend(_Failure(status, errcode, errmsg, delay) for _ in range(times))

    def start(self) -> None:
        receiver = self

        class Handler(_RouteHandler):
            owner = receiver

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        serve.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, route: str, request: Received) -> tuple[int, dict[str, Any]]:
        self.attempts[route].append(request)
        queue = self._failures.get(route)
        if queue:
            failure = queue.popleft()
            time.sleep(failure.delay)
            if failure.errcode is not None:
                return 200, {"errcode": failure.errcode, "errmsg": failure.errmsg or "failing"}
            return failure.status, {"error": failure.errmsg or "failing on purpose"}
        refusal = getattr(self, f"_check_{route}")(request)
        if refusal is None:
            self.received[route].append(request)
            return 200, {"errcode": 0, "errmsg": "ok"}
        return refusal

    def _check_dingtalk(self, request: Received) -> tuple[int, dict[str, Any]] | None:
        if request.query.get("access_token") != self.dingtalk_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.dingtalk_secret is None:
            return None
        stamp, given = request.query.get("timestamp", ""), request.query.get("sign", "")
        fresh = stamp.isdigit() and abs(self.now().timestamp() * 1000 - int(stamp)) <= 3_600_000
        to_sign = f"{stamp}\n{self.dingtalk_secret}".encode()
        mac = hmac.new(self.dingtalk_secret.encode(), to_sign, hashlib.sha256).digest()
        if fresh and hmac.compare_digest(base64.b64encode(mac).decode(), given):
            return None
        return 200, {"errcode": 310000, "errmsg": "sign not match"}

    def _check_wecom(self, request: Received) -> tuple[int, dict[str, Any]] | None:
        if request.query.get("key") != self.wecom_key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        content = (request.json or {}).get("markdown", {}).get("content", "")
        if len(content.encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return None

    def _check_webhook(self, request: Received) -> tuple[int, dict[str, Any]] | None:
        if verify_webhook(self.webhook_secret, request.headers, request.body, self.now()):
            return None
        return 401, {"error": "bad signature"}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # e.g. the client gave up on a delayed answer: expected in timeout tests


class _RouteHandler(BaseHTTPRequestHandler):
    owner: Receiver

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        route = parts.path.strip("/")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if route not in ROUTES:
            self._reply(404, {"error": "not found"})
            return
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        request = Received(query, dict(self.headers.items()), body, document)
        self._reply(*self.owner.answer(route, request))

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _per_route() -> dict[str, list[Received]]:
    return {route: [] for route in ROUTES}


class CollectingSmsGateway:
    """An SMS provider stand-in loaded through LANDFLOW_SMS_GATEWAY: keeps (phone, text)."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        if phone.startswith("000"):
            raise ConnectionError("provider unreachable")
        self.sent.append((phone, text))


def collecting_sms_gateway(settings: Any) -> CollectingSmsGateway:
    return CollectingSmsGateway(settings)


def self_signed_certificate(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files in `folder`."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
