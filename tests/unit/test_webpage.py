"""The local gateway's word to the web client on signing in, and the CSP it narrows."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomchat_tools.local import webpage

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_and_the_hosting_module_hold_the_same_ceilings() -> None:
    csp = webpage.page_csp((ROOT / "web" / "index.html").read_text())
    assert webpage.CSP_CEILING in csp
    assert f"connect-src 'self' {webpage.WEBSOCKET_CEILING} " in csp
    hosting = (ROOT / "infra" / "modules" / "hosting" / "main.tf").read_text()
    assert f'sign_in_ceiling   = " {webpage.CSP_CEILING}"' in hosting
    assert f'websocket_ceiling = " {webpage.WEBSOCKET_CEILING} "' in hosting


CSP = "default-src 'self'; connect-src 'self' ws: wss: " + webpage.CSP_CEILING + "; x 'none'"


def test_the_ceilings_are_narrowed_to_the_stacks_api_and_one_sign_in_origin_or_none() -> None:
    api = "wss://abc123.execute-api.us-east-1.amazonaws.com/live"
    assert webpage.narrowed_csp(CSP, "http://127.0.0.1:5123/", "ws://127.0.0.1:8080/live") == (
        "default-src 'self'; connect-src 'self' ws://127.0.0.1:8080 http://127.0.0.1:5123; x 'none'"
    )
    assert webpage.narrowed_csp(CSP, None, api) == (
        "default-src 'self'; connect-src 'self' wss://abc123.execute-api.us-east-1.amazonaws.com;"
        " x 'none'"
    )


@pytest.mark.parametrize(
    ("csp", "sign_in", "websocket"),
    [
        ("default-src 'self'", None, "ws://127.0.0.1:1/live"),
        (CSP, "javascript:alert(1)", "ws://127.0.0.1:1/live"),
        (CSP, None, "https://not-a-websocket.example/"),
    ],
)
def test_narrowing_refuses_what_it_cannot_narrow(csp, sign_in, websocket) -> None:
    with pytest.raises(ValueError):
        webpage.narrowed_csp(csp, sign_in, websocket)


def test_devstack_auth_from_the_outputs() -> None:
    assert webpage.web_auth({"auth_mode": "none"}, "http://127.0.0.1:5000") is None
    assert webpage.web_auth({}, "http://127.0.0.1:5000") is None
    assert webpage.web_auth({"auth_mode": "jwt", "cognito_client_id": None}, "http://e:1") == {
        "authMode": "jwt",
        "cognitoClientId": None,
        "cognitoEndpoint": None,
    }
    assert webpage.web_auth(
        {"auth_mode": "oidc", "cognito_client_id": "abc"}, "http://127.0.0.1:5000"
    ) == {"authMode": "oidc", "cognitoClientId": "abc", "cognitoEndpoint": "http://127.0.0.1:5000/"}
