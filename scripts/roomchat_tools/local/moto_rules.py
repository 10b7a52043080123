"""What AWS enforces and moto 5.2 does not, made true of the local emulator.

The project's rule: AWS's documented behaviour is the spec, and the local stack is at least as
strict as AWS. ``apply()`` (called by ``emulator.running``, once per process) wraps the few moto
backend methods concerned, in this process only:

- Cognito ``SignUp`` in a pool whose ``AdminCreateUserConfig.AllowAdminCreateUserOnly`` is true
  answers ``NotAuthorizedException`` ("In user pools where self-registration is inactive,
  SignUp API requests return NotAuthorizedException"):
  https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-admin-create-user-policy.html
- Cognito ``SignUp`` with an attribute outside the app client's ``WriteAttributes`` (when the
  client names any) answers ``NotAuthorizedException``: an app client may write only those
  (API_CreateUserPoolClient, WriteAttributes):
  https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html

moto 5.2 creates the user in both cases. tests/e2e/test_cognito_stack.py checks both on the
signed-in stack.
"""

from __future__ import annotations

import functools
from typing import Any

_applied = False


def apply() -> None:
    """Wrap moto's backends (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.cognitoidp.models import CognitoIdpBackend

    original = CognitoIdpBackend.sign_up

    @functools.wraps(original)
    def sign_up(self: Any, client_id: str, username: str, password: str, attributes: Any) -> Any:
        check_sign_up(self, client_id, attributes)
        return original(self, client_id, username, password, attributes)

    CognitoIdpBackend.sign_up = sign_up  # type: ignore[method-assign]
    _applied = True


def check_sign_up(backend: Any, client_id: str, attributes: list[dict[str, str]] | None) -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError

    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is None:
            continue
        admin = pool.extended_config.get("AdminCreateUserConfig") or {}
        if admin.get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedError("SignUp is not permitted for this user pool")
        writable = client.extended_config.get("WriteAttributes")
        if writable:
            for attribute in attributes or []:
                if attribute.get("Name") not in writable:
                    raise NotAuthorizedError("A client attempted to write unauthorized attribute")
        return
