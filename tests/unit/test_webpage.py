"""The local gateway's word to the web client on signing in, and the CSP it narrows."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomchat_tools.local import webpage

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_and_the_hosting_module_hold_the_same_sign_in_ceiling() -> None:
    csp = webpage.page_csp((ROOT / "web" / "index.html").read_text())
    assert webpage.CSP_CEILING in csp
    hosting = (ROOT / "infra" / "modules" / "hosting" / "main.tf").read_text()
    assert f'sign_in_ceiling  = " {webpage.CSP_CEILING}"' in hosting


def test_the_ceiling_is_narrowed_to_one_origin_or_none() -> None:
    csp = "default-src 'self'; connect-src 'self' ws: wss: " + webpage.CSP_CEILING + "; x 'none'"
    assert webpage.narrowed_csp(csp, "http://127.0.0.1:5123/") == (
        "default-src 'self'; connect-src 'self' ws: wss: http://127.0.0.1:5123; x 'none'"
    )
    assert (
        webpage.narrowed_csp(csp, None)
        == "default-src 'self'; connect-src 'self' ws: wss:; x 'none'"
    )
    with pytest.raises(ValueError):
        webpage.narrowed_csp("default-src 'self'", None)
    with pytest.raises(ValueError):
        webpage.narrowed_csp(csp, "javascript:alert(1)")


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
