"""The $connect authorizer with standard JWTs: `jwt` mode (HS256/ES256, keys by kid from SSM)
and `oidc` mode (RS256 against a JWKS). Every refused token is a Deny (403), never a crash."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from roomchat import authorizer
from roomchat.auth import InvalidToken, JwtVerifier, OidcVerifier, Policy, parse_keys, sign
from roomchat.settings import AuthSettings, SettingsError
from roomchat.wiring import build_verifier
from tests.unit.conftest import Context

SECRET = "a-test-secret-of-32-characters-0123"
OLD_SECRET = "the-previous-secret-of-32-chars-0123"
ISS, AUD = "https://issuer.example", "roomchat"
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/test/$connect"
POLICY = Policy(ISS, AUD, 3600)


def claims(**over):
    now = int(time.time())
    base = {"sub": "user-1", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def hs(kid=None, key=SECRET, **over):
    return sign(claims(**over), key, kid=kid)


def verifier(keys=None):
    return JwtVerifier(POLICY, lambda: keys or {"default": SECRET})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, payload: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def _hmac_signed(header: dict, payload: dict, key: bytes) -> str:
    """HS256 by hand: PyJWT itself refuses to use a public key as an HMAC secret."""
    import hashlib
    import hmac

    signed = _unsigned(header, payload)[:-1]
    return signed + "." + _b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())


EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_PUBLIC_PEM = (
    EC_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_good_hs256_token_gives_its_identity():
    exp = int(time.time()) + 300
    identity = verifier().verify(hs(name="Ana", rooms=["team-a"], exp=exp))
    assert (identity.sub, identity.name, identity.rooms) == ("user-1", "Ana", ("team-a",))
    assert identity.context() == {"sub": "user-1", "name": "Ana", "rooms": "team-a", "exp": exp}


def test_es256_tokens_verify_against_the_public_key_pem():
    token = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec1"})
    assert verifier({"ec1": EC_PUBLIC_PEM}).verify(token).sub == "user-1"


def test_key_rotation_accepts_every_listed_kid_and_refuses_others():
    v = verifier({"new": SECRET, "old": OLD_SECRET})
    assert v.verify(hs(kid="new")).sub == v.verify(hs(kid="old", key=OLD_SECRET)).sub
    with pytest.raises(InvalidToken, match="unknown kid"):
        v.verify(hs(kid="gone"))
    with pytest.raises(InvalidToken, match="Signature"):
        v.verify(hs(kid="new", key=OLD_SECRET))  # a kid names its own key only


def test_the_name_falls_back_to_cognito_username_then_email():
    v = verifier()
    assert v.verify(hs(**{"cognito:username": "bo"})).name == "bo"
    assert v.verify(hs(email="cy@example.com")).name == "cy@example.com"
    assert v.verify(hs(name="x" * 40, email="d@e.f")).name == "d@e.f"  # too long: next claim
    assert v.verify(hs()).name is None


HS_NONE = _unsigned({"alg": "none", "typ": "JWT"}, claims())
BAD_TOKENS = {
    "expired": hs(iat=int(time.time()) - 1000, exp=int(time.time()) - 500),
    "wrong audience": hs(aud="someone-else"),
    "no audience": hs(aud=None),
    "wrong issuer": hs(iss="https://evil.example"),
    "no issuer": hs(iss=None),
    "no iat": hs(iat=None),
    "no sub": hs(sub=None),
    "too long a lifetime": hs(exp=int(time.time()) + 7200),
    "wrong key": hs(key="another-secret-of-32-characters-99"),
    "alg none": HS_NONE,
    "alg none, no kid": _unsigned({"alg": "none"}, claims()),
    "RS256 where HS256 is configured": jwt.encode(claims(), RSA_KEY, algorithm="RS256"),
    "HS256 signed with the ES public key": _hmac_signed(
        {"alg": "HS256", "kid": "ec1"}, claims(), EC_PUBLIC_PEM.encode()
    ),
    "bad rooms claim": hs(rooms=["a#b"]),
    "non-ASCII": hs() + "é",
    "non-ASCII header": "é" + hs()[1:],
    "emoji": "😀.😀.😀",
    "garbage": "garbage",
    "two parts": "a.b",
    "empty parts": "..",
    "bad base64": "%%%.@@@.!!!",
    "header not JSON": _b64(b"not json") + ".e30.sig",
    "huge": "a" * 10_000 + ".b.c",
    "v1 home-made": "v1.eyJzdWIiOiJ1In0.c2ln",
    "nul": "\x00.\x00.\x00",
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_are_refused(token):
    keys = {"default": SECRET, "ec1": EC_PUBLIC_PEM}
    with pytest.raises(InvalidToken):
        verifier(keys).verify(token)


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_the_authorizer_denies_every_bad_token_never_crashing(token):
    authorizer.use_verifier(verifier({"default": SECRET, "ec1": EC_PUBLIC_PEM}))
    try:
        answer = _authorize({"token": token})
    finally:
        authorizer.use_verifier(None)
    [statement] = answer["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and "context" not in answer


def _authorize(query):
    return authorizer.on_authorize({"methodArn": ARN, "queryStringParameters": query}, Context())


def _env(monkeypatch, **values):
    for key in ("AUTH_SECRET", "AUTH_SECRET_PARAMETER", "AUTH_JWKS_URL", "AUTH_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AUTH_ISSUER", ISS)
    monkeypatch.setenv("AUTH_AUDIENCE", AUD)
    monkeypatch.setenv("AUTH_MAX_LIFETIME_SECONDS", "3600")
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    authorizer.use_verifier(None)


def test_the_authorizer_allows_a_good_token_and_passes_identity(monkeypatch):
    _env(monkeypatch, AUTH_SECRET=SECRET)
    exp = int(time.time()) + 300
    answer = _authorize({"token": hs(name="ana", rooms=["t1", "t2"], exp=exp)})
    authorizer.use_verifier(None)
    [statement] = answer["policyDocument"]["Statement"]
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}
    assert answer["principalId"] == "user-1"
    # the token's expiry goes with its identity: actions after it are refused (test_token_expiry)
    assert answer["context"] == {"sub": "user-1", "name": "ana", "rooms": "t1,t2", "exp": exp}


def test_the_authorizer_without_a_token_is_unauthorized(monkeypatch):
    _env(monkeypatch, AUTH_SECRET=SECRET)
    for query in ({}, None, {"token": ""}):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            _authorize(query)
    authorizer.use_verifier(None)


def test_the_keys_come_from_ssm_and_a_rotation_is_picked_up():
    import boto3
    from moto import mock_aws

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/rc/keys", Value=OLD_SECRET, Type="SecureString")
        settings = AuthSettings(
            issuer=ISS, audience=AUD, max_lifetime_s=3600, secret_parameter="/rc/keys",
            cache_seconds=0,
        )  # fmt: skip
        authorizer.use_verifier(build_verifier(settings))
        try:

            def effect(token):
                return _authorize({"token": token})["policyDocument"]["Statement"][0]["Effect"]

            old, new = hs(key=OLD_SECRET), hs(kid="k2")
            assert (effect(old), effect(new)) == ("Allow", "Deny")
            rotated = json.dumps({"default": OLD_SECRET, "k2": SECRET})
            ssm.put_parameter(Name="/rc/keys", Value=rotated, Type="SecureString", Overwrite=True)
            assert (effect(old), effect(new)) == ("Allow", "Allow")
        finally:
            authorizer.use_verifier(None)


def test_parse_keys_takes_one_key_or_a_json_key_set():
    assert parse_keys(SECRET) == {"default": SECRET}
    assert parse_keys('{"a": "x", "b": "y"}') == {"a": "x", "b": "y"}
    for bad in ("", "{}", '{"a": 1}', "{not json"):
        with pytest.raises(ValueError):
            parse_keys(bad)


def test_auth_settings_refuse_incomplete_configuration():
    base = {"AUTH_ISSUER": ISS, "AUTH_AUDIENCE": AUD}
    with pytest.raises(SettingsError, match="AUTH_SECRET"):
        AuthSettings.from_env(base)
    with pytest.raises(SettingsError, match="AUTH_ISSUER"):
        AuthSettings.from_env({"AUTH_SECRET": SECRET})
    with pytest.raises(SettingsError, match="AUTH_JWKS_URL"):
        AuthSettings.from_env({**base, "AUTH_MODE": "oidc"})
    with pytest.raises(SettingsError, match="AUTH_MODE"):
        AuthSettings.from_env({**base, "AUTH_MODE": "saml"})
    s = AuthSettings.from_env({**base, "AUTH_MODE": "oidc", "AUTH_JWKS_URL": "https://x/jwks"})
    assert (s.mode, s.jwks_url, s.max_lifetime_s) == ("oidc", "https://x/jwks", 86400)


@pytest.mark.parametrize(
    "url",
    ["http://issuer.example/jwks", "http://10.0.0.1/jwks", "ftp://x/jwks", "https:///jwks", "x"],
)
def test_the_jwks_is_read_over_https_only(url):
    """Whoever sits between the authorizer and an http:// JWKS could serve their own keys and
    sign in as anyone; plain http is left to loopback hosts (the local stack's emulator)."""
    base = {"AUTH_ISSUER": ISS, "AUTH_AUDIENCE": AUD, "AUTH_MODE": "oidc"}
    with pytest.raises(SettingsError, match="https://"):
        AuthSettings.from_env({**base, "AUTH_JWKS_URL": url})
    local = "http://127.0.0.1:5000/pool/.well-known/jwks.json"
    assert AuthSettings.from_env({**base, "AUTH_JWKS_URL": local}).jwks_url == local


# ------------------------------------------------------------------------------------ oidc


class FakeJwks:
    """Keys by kid, as PyJWKClient would serve them from the issuer's JWKS."""

    def __init__(self, keys):
        self.keys = keys

    def key_for(self, token):
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise InvalidToken("no signing key")
        return self.keys[kid]


def rs(key=RSA_KEY, kid="k1", **over):
    return jwt.encode(claims(**over), key, algorithm="RS256", headers={"kid": kid})


def oidc():
    return OidcVerifier(POLICY, FakeJwks({"k1": RSA_KEY.public_key()}))


def test_oidc_accepts_an_rs256_id_token_and_a_cognito_access_token():
    assert oidc().verify(rs(**{"cognito:username": "ana"})).name == "ana"
    access = rs(aud=None, token_use="access", client_id=AUD)
    assert oidc().verify(access).sub == "user-1"


OIDC_BAD = {
    "other key, same kid": rs(key=OTHER_RSA_KEY),
    "unknown kid": rs(kid="k9"),
    "access token of another client": rs(aud=None, token_use="access", client_id="x"),
    "id token of another client": rs(aud="another-app-client"),
    "wrong issuer": rs(iss="https://cognito-idp.us-east-1.amazonaws.com/other"),
    "HS256 with the public key's bytes": _hmac_signed(
        {"alg": "HS256", "kid": "k1"},
        claims(),
        RSA_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ),
    "alg none": _unsigned({"alg": "none", "kid": "k1"}, claims()),
    "expired": rs(iat=int(time.time()) - 1000, exp=int(time.time()) - 400),
}


@pytest.mark.parametrize("token", OIDC_BAD.values(), ids=OIDC_BAD.keys())
def test_oidc_refuses_bad_tokens(token):
    with pytest.raises(InvalidToken):
        oidc().verify(token)


class JwksServer:
    """An issuer's JWKS endpoint over real HTTP (PyJWKClient's urllib fetch), counting requests;
    ``failing`` makes it answer 500."""

    def __init__(self, keys):
        import http.server
        import threading

        self.keys, self.requests, self.failing = keys, 0, False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                if outer.failing:
                    self.send_error(500)
                    return
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _jwk(key, kid):
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def jwks_server():
    server = JwksServer([_jwk(RSA_KEY, "k1")])
    yield server
    server.close()


def test_a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval(jwks_server):
    """Made-up kids are refused without a fetch each (PyJWKClient fetched on every one), and
    the real user's key keeps working throughout."""
    from roomchat.auth import JWKS_REFETCH_SECONDS, JwksKeys

    clock = Clock()
    v = OidcVerifier(POLICY, JwksKeys(jwks_server.url, clock=clock))
    assert v.verify(rs()).sub == "user-1"
    assert jwks_server.requests == 1

    for n in range(100):
        with pytest.raises(InvalidToken):
            v.verify(rs(kid=f"made-up-{n}"))
        assert v.verify(rs()).sub == "user-1"
    assert jwks_server.requests == 1  # the last fetch was less than an interval ago

    clock.now += JWKS_REFETCH_SECONDS
    for n in range(100):
        with pytest.raises(InvalidToken):
            v.verify(rs(kid=f"later-{n}"))
    assert jwks_server.requests == 2  # one fetch for the whole second interval


def test_a_failed_jwks_fetch_keeps_the_keys_in_hand(jwks_server):
    """An issuer outage after the keys expired signs nobody out, and costs one request, not one
    per token (PyJWKClient tried again, waiting up to its timeout, on every unknown kid, and
    put an empty key set in its cache on each failure)."""
    from roomchat.auth import JwksKeys

    clock = Clock()
    keys = JwksKeys(jwks_server.url, lifespan_s=3600, clock=clock)
    v = OidcVerifier(POLICY, keys)
    assert v.verify(rs()).sub == "user-1"
    jwks_server.failing = True
    clock.now += 3600  # the key set has expired: the next token tries to fetch it again
    for _ in range(20):
        assert v.verify(rs()).sub == "user-1"
        with pytest.raises(InvalidToken):
            v.verify(rs(kid="unknown"))
    assert jwks_server.requests == 2  # one failed attempt, not one per token
    jwks_server.failing = False
    clock.now += 3600
    assert v.verify(rs()).sub == "user-1"
    assert jwks_server.requests == 3


def test_a_rotated_key_is_fetched_once_the_interval_since_the_last_fetch_has_passed(
    jwks_server,
):
    from roomchat.auth import JWKS_REFETCH_SECONDS, JwksKeys

    clock = Clock()
    v = OidcVerifier(POLICY, JwksKeys(jwks_server.url, clock=clock))
    assert v.verify(rs()).sub == "user-1"
    jwks_server.keys = [_jwk(RSA_KEY, "k1"), _jwk(OTHER_RSA_KEY, "k2")]
    clock.now += JWKS_REFETCH_SECONDS
    assert v.verify(rs(key=OTHER_RSA_KEY, kid="k2")).sub == "user-1"
    assert v.verify(rs()).sub == "user-1"
    assert jwks_server.requests == 2


def test_a_key_the_issuer_withdrew_is_refused_once_the_set_is_fetched_again(jwks_server):
    """PyJWKClient's per-kid cache (cache_keys) kept a withdrawn key for the life of the
    process; here it goes with the next key set."""
    from roomchat.auth import JwksKeys

    clock = Clock()
    v = OidcVerifier(POLICY, JwksKeys(jwks_server.url, lifespan_s=3600, clock=clock))
    assert v.verify(rs()).sub == "user-1"
    jwks_server.keys = [_jwk(OTHER_RSA_KEY, "k2")]
    clock.now += 3600
    with pytest.raises(InvalidToken):
        v.verify(rs())
    assert v.verify(rs(key=OTHER_RSA_KEY, kid="k2")).sub == "user-1"


def test_an_issuer_down_at_a_cold_start_is_our_error_and_is_retried_soon(jwks_server):
    """No keys at all because the JWKS cannot be read: the authorizer logs an error (not a
    refused token), and tries again after JWKS_RETRY_SECONDS, not a whole interval."""
    from roomchat.auth import JWKS_RETRY_SECONDS, JwksKeys

    clock = Clock()
    jwks_server.failing = True
    v = OidcVerifier(POLICY, JwksKeys(jwks_server.url, clock=clock))
    for _ in range(5):
        with pytest.raises(jwt.PyJWKClientConnectionError):
            v.verify(rs())
    assert jwks_server.requests == 1
    jwks_server.failing = False
    clock.now += JWKS_RETRY_SECONDS
    assert v.verify(rs()).sub == "user-1"
    assert jwks_server.requests == 2
