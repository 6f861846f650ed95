"""Security headers on every response: a Content-Security-Policy that runs only the site's own
script files (no inline scripts, no eval), no framing, no MIME sniffing, and referrers kept
within the site. A pure ASGI middleware, so streamed and static responses get them too."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # style attributes written by bpmn-js, ECharts and Swagger UI; styles cannot run code
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),  # for browsers without frame-ancestors
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
CSP, XFO = HEADERS[0][0], HEADERS[1][0]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(message.get("headers", []))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(headers) -> list[tuple[bytes, bytes]]:
    """The response's headers plus ours. A response with a policy of its own (an attachment's
    preview, shown in a frame of the case page) keeps it; it may then be framed by the site's
    own pages only."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    if CSP in present:
        headers = [
            (name, _framed_by_self(value) if name.lower() == CSP else value)
            for name, value in headers
        ]
        present.add(XFO)
        if not any(name.lower() == XFO for name, _ in headers):
            headers.append((XFO, b"SAMEORIGIN"))
    headers.extend((name, value) for name, value in HEADERS if name not in present)
    return headers


def _framed_by_self(policy: bytes) -> bytes:
    return policy if b"frame-ancestors" in policy else policy + b"; frame-ancestors 'self'"
