"""The $connect REQUEST authorizer: ``?token=`` must be a JWT the configured issuer signed.

Deployed from its own zip (PyJWT and cryptography bundled; the chat functions' zip has
neither), so only this function pays their import at cold start.

No token raises ``Unauthorized`` (API Gateway answers 401); a bad, expired, wrong-audience or
wrong-key token gets a Deny policy (403). The token's identity (``sub``, ``name``, granted
``rooms``) reaches every later event of the connection as requestContext.authorizer:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
"""

from __future__ import annotations

from typing import Any

from . import logs
from .auth import InvalidToken
from .settings import AuthSettings
from .wiring import build_verifier

Json = dict[str, Any]

_verifier: Any = None


def verifier() -> Any:
    """Built on the first invocation and reused while the process is warm (keys are cached)."""
    global _verifier
    if _verifier is None:
        _verifier = build_verifier(AuthSettings.from_env())
    return _verifier


def use_verifier(v: Any) -> None:
    """Replace the verifier (tests); None rebuilds it from the environment."""
    global _verifier
    _verifier = v


def _policy(effect: str, principal: str, resource: str, context: Json | None = None) -> Json:
    answer: Json = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        answer["context"] = context
    return answer


def on_authorize(event: Json, context: Any) -> Json:
    rc = event.get("requestContext") or {}
    logs.bind(
        action="$authorize",
        connectionId=rc.get("connectionId"),
        requestId=getattr(context, "aws_request_id", None) or rc.get("requestId"),
    )
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        logs.metrics(
            "refused", {"refused": (1, logs.COUNT)}, code="unauthorized", detail="missing token"
        )
        raise Exception("Unauthorized")  # the exact text API Gateway maps to 401
    resource = event.get("methodArn", "*")
    try:
        identity = verifier().verify(token)
    except InvalidToken as e:
        logs.metrics("refused", {"refused": (1, logs.COUNT)}, code="forbidden", detail=str(e)[:300])
        return _policy("Deny", "anonymous", resource)
    except Exception as e:
        # Whatever a client puts in ?token= is its problem, never a 500 of ours; a JWKS or SSM
        # outage is ours, and logged as an error.
        logs.error("token_check_failed", error=type(e).__name__, detail=str(e)[:300])
        return _policy("Deny", "anonymous", resource)
    logs.info("authorized", sub=identity.sub)
    return _policy("Allow", identity.sub, resource, identity.context())
