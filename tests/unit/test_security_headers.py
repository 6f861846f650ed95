"""The security headers middleware's merge: ours on every response; a response's own policy is
kept, framed by the site's own pages only."""

from __future__ import annotations

from engine.web.security_headers import CONTENT_SECURITY_POLICY, with_security_headers


def test_a_plain_response_gets_every_header():
    merged = dict(with_security_headers([(b"content-type", b"text/html")]))
    assert merged[b"content-security-policy"].decode() == CONTENT_SECURITY_POLICY
    assert merged[b"x-frame-options"] == b"DENY"
    assert merged[b"x-content-type-options"] == b"nosniff"
    assert merged[b"referrer-policy"] == b"same-origin"


def test_a_preview_keeps_its_policy_and_may_be_framed_by_the_site_only():
    own = b"default-src 'none'; img-src 'self'"
    merged = dict(with_security_headers([(b"Content-Security-Policy", own)]))
    assert merged[b"Content-Security-Policy"] == own + b"; frame-ancestors 'self'"
    assert merged[b"x-frame-options"] == b"SAMEORIGIN"
    assert b"content-security-policy" not in merged  # not sent twice
    assert merged[b"x-content-type-options"] == b"nosniff"


def test_a_policy_that_decides_its_framing_is_left_alone():
    own = b"default-src 'none'; frame-ancestors 'none'"
    merged = dict(with_security_headers([(b"content-security-policy", own)]))
    assert merged[b"content-security-policy"] == own
