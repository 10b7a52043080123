"""What the local gateway tells the web client about signing in, and the page's CSP it sends.

The page's own Content-Security-Policy (the ``<meta>`` tag of web/index.html) lets ``connect-src``
reach any WebSocket server (`WEBSOCKET_CEILING`, ``ws: wss:``) and any of the places a sign-in
service may be (`CSP_CEILING`: Cognito's regional endpoints and a loopback emulator), because a
static page cannot know which ones its stack uses. Whoever serves the page knows, and sends the
same policy as a header with each ceiling replaced by that one origin (or nothing): the page's
WebSocket can then reach its own API only, so not even a script fooled by a link could hand a
token to another server. A browser enforces both policies, so the effective ``connect-src`` is
the header's: https://developer.mozilla.org/en-US/docs/Web/HTTP/CSP ("multiple content security
policies": each must allow a request). The hosting module (infra/modules/hosting) does the same.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# Kept in step with web/index.html and infra/modules/hosting/main.tf (tests/unit/test_webpage.py).
CSP_CEILING = "https://*.amazonaws.com http://127.0.0.1:* http://localhost:*"
WEBSOCKET_CEILING = "ws: wss:"
_META = re.compile(r'Content-Security-Policy"\s+content="([^"]+)"')


def page_csp(html: str) -> str:
    """The policy of the page's ``<meta http-equiv="Content-Security-Policy">``."""
    match = _META.search(html)
    if match is None:
        raise ValueError("the page has no Content-Security-Policy meta tag")
    return match.group(1)


def origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def websocket_origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not a ws(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def narrowed_csp(csp: str, sign_in_url: str | None, websocket_url: str) -> str:
    """``csp`` with the sign-in ceiling replaced by the one origin the page may sign in at, and
    the WebSocket ceiling by the origin of the one API the page talks to."""
    if CSP_CEILING not in csp or f" {WEBSOCKET_CEILING} " not in csp:
        raise ValueError("the page's connect-src does not hold the WebSocket and sign-in ceilings")
    narrowed = csp.replace(f" {WEBSOCKET_CEILING} ", f" {websocket_origin(websocket_url)} ")
    return narrowed.replace(CSP_CEILING, origin(sign_in_url) if sign_in_url else "").replace(
        " ;", ";"
    )


def web_auth(outputs: dict[str, Any], emulator_endpoint: str) -> dict[str, Any] | None:
    """The ``auth`` of /devstack.json from the Terraform outputs: the mode and, with a Cognito
    pool, its app client and the endpoint to sign in at (the emulator's), else None."""
    mode = outputs.get("auth_mode") or "none"
    if mode == "none":
        return None
    client_id = outputs.get("cognito_client_id")
    return {
        "authMode": mode,
        "cognitoClientId": client_id,
        "cognitoEndpoint": emulator_endpoint.rstrip("/") + "/" if client_id else None,
    }
