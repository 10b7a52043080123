"""IAM on the local stack: each function's AWS calls are checked against its execution role.

On AWS every call a function makes is authorized against its role's policies, action *and*
resource, and a call not granted fails with AccessDenied. moto can enforce IAM on actions only
(a statement naming a table or index ARN denies as well: docs FACTS), and turning it on would
also check Terraform's and the tests' own calls. So the local stack checks the functions' calls
itself, in two places, with one evaluator (``Policy``):

- in each Lambda worker, a botocore hook (``install``, loaded by worker.py from this file, before
  the handler is imported) sees every API call the function makes through botocore (DynamoDB,
  SQS, Lambda Invoke, SSM...), works out the IAM action and the resource ARNs from the
  operation and its parameters (``call_resources``), and answers a call the role does not allow
  with the error AWS would send (``AccessDeniedException``, ``AccessDenied`` for SQS), without
  sending it. The calls reach the emulator only when allowed;
- in the gateway, ``@connections`` requests (the lean poster signs them itself, outside any
  botocore client) are checked server-side as API Gateway does, on
  ``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/@connections/<id>``; the
  caller is known by the session token of its signature (``AWS_SESSION_TOKEN``, one per
  function, as Lambda gives each function its role's session).

The roles are the ones Terraform created in the emulator (``account_roles``: inline and attached
policies read back with IAM's API). Evaluation follows AWS's logic for identity-based policies
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an
explicit Deny wins, else some Allow must match the action and every resource of the call;
``Action``/``NotAction`` and ``Resource``/``NotResource`` with ``*``/``?`` wildcards. A statement
with a ``Condition`` is not evaluated: as an Allow it never applies, as a Deny it always does
(stricter than AWS; the only conditions the project writes are on KMS, which the code never
calls itself). Denials are logged by the worker (``IAM DENIED``) and by the gateway.

Stdlib only at import: worker.py loads this file by path in an interpreter that has only the
deployment package and the runtime's boto3 on its path.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

# The worker reads its role's policy from the file this variable names, then removes it from the
# environment (the function's own code never sees it).
POLICY_FILE_ENV = "_ROOMCHAT_IAM_POLICY"
# What the worker prints (stderr, the function's log) when it refuses a call.
DENIED_MARK = "IAM DENIED"

# Batch operations are authorized as their single action:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# IAM action names that differ from the operation's.
ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    # HeadObject is authorized as s3:GetObject:
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
    ("s3", "HeadObject"): "GetObject",
}
# The error each service answers a call its caller may not make with (code, HTTP status).
DENIAL_CODES = {
    "sqs": ("AccessDenied", 403),
    "dynamodb": ("AccessDeniedException", 400),
    "s3": ("AccessDenied", 403),
}
DEFAULT_DENIAL = ("AccessDeniedException", 403)
# Services whose calls the gateway checks server-side (the @connections API).
SERVER_CHECKED = frozenset({"execute-api"})


# ----------------------------------------------------------------------------- evaluation


@lru_cache(maxsize=1024)
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters (``/`` and ``:`` too), ``?`` one."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _matches(globs: Iterable[str], value: str, case_sensitive: bool) -> bool:
    return any(_pattern(g, case_sensitive).match(value) for g in globs)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditional: bool = False
    sid: str = ""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Statement:
        return cls(
            effect=str(raw.get("Effect", "")),
            actions=tuple(_listed(raw.get("Action"))),
            not_actions=tuple(_listed(raw.get("NotAction"))),
            resources=tuple(_listed(raw.get("Resource"))),
            not_resources=tuple(_listed(raw.get("NotResource"))),
            conditional=bool(raw.get("Condition")),
            sid=str(raw.get("Sid", "")),
        )

    def covers_action(self, action: str) -> bool:
        if self.not_actions:
            return not _matches(self.not_actions, action, case_sensitive=False)
        return _matches(self.actions, action, case_sensitive=False)

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not _matches(self.not_resources, resource, case_sensitive=True)
        return _matches(self.resources, resource, case_sensitive=True)


@dataclass(frozen=True)
class Policy:
    """Everything one role's policies say, as a flat list of statements."""

    role_arn: str
    session: str
    statements: tuple[Statement, ...] = field(default_factory=tuple)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Policy:
        return cls(
            role_arn=str(doc["role"]),
            session=str(doc.get("session", "local")),
            statements=tuple(Statement.from_json(s) for s in doc.get("statements", [])),
        )

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def principal(self) -> str:
        """How AWS names the caller in a denial: the role's session."""
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{self.account}:assumed-role/{role_name}/{self.session}"

    def denial(self, action: str, resources: Iterable[str]) -> str | None:
        """Why the role may not do ``action`` on ``resources`` (AWS's wording), or None."""
        for resource in resources:
            applying = [
                s
                for s in self.statements
                if s.covers_action(action) and s.covers_resource(resource)
            ]
            if any(s.effect == "Deny" for s in applying):
                return (
                    f"User: {self.principal} is not authorized to perform: {action} on resource: "
                    f"{resource} with an explicit deny in an identity-based policy"
                )
            if not any(s.effect == "Allow" and not s.conditional for s in applying):
                return (
                    f"User: {self.principal} is not authorized to perform: {action} on resource: "
                    f"{resource} because no identity-based policy allows the {action} action"
                )
        return None


# ----------------------------------------------------------------------------- what a call is


def call_resources(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> tuple[str, list[str]]:
    """(IAM action, resource ARNs) of one API call; ``["*"]`` for what names no resource."""
    operation = SQS_BATCH_ACTIONS.get(operation, operation) if service == "sqs" else operation
    action = f"{service}:{ACTION_NAMES.get((service, operation), operation)}"
    arn = f"arn:aws:{service}:{region}:{account}"
    if service == "dynamodb":
        return action, _dynamodb_resources(arn, operation, params)
    if service == "sqs":
        if "QueueUrl" in params:
            parts = urlsplit(str(params["QueueUrl"])).path.strip("/").split("/")
            return action, [f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}"]
        if "QueueName" in params:
            owner = params.get("QueueOwnerAWSAccountId") or account
            return action, [f"arn:aws:sqs:{region}:{owner}:{params['QueueName']}"]
    if service == "lambda" and "FunctionName" in params:
        name = str(params["FunctionName"])
        return action, [name if name.startswith("arn:") else f"{arn}:function:{name}"]
    if service == "s3" and "Bucket" in params:
        return _s3_resources(action, operation, params)
    if service == "ssm" and ("Name" in params or "Names" in params):
        names = _listed(params.get("Names") or params.get("Name"))
        return action, [
            n if n.startswith("arn:") else f"{arn}:parameter/{n.lstrip('/')}" for n in names
        ]
    return action, ["*"]


def _s3_resources(action: str, operation: str, params: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Object operations act on arn:aws:s3:::<bucket>/<key>; DeleteObjects on each key."""
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if "Key" in params:
        return action, [f"{bucket}/{params['Key']}"]
    if operation == "DeleteObjects":
        keys = [o["Key"] for o in params.get("Delete", {}).get("Objects", [])]
        return "s3:DeleteObject", [f"{bucket}/{k}" for k in keys] or [bucket]
    return action, [bucket]


def _dynamodb_resources(arn: str, operation: str, params: Mapping[str, Any]) -> list[str]:
    def table(name: Any) -> str:
        name = str(name)
        return name if name.startswith("arn:") else f"{arn}:table/{name}"

    if "TableName" in params:
        base = table(params["TableName"])
        index = params.get("IndexName")
        return [f"{base}/index/{index}" if index else base]
    if "RequestItems" in params:  # BatchGetItem, BatchWriteItem
        return [table(name) for name in params["RequestItems"]]
    if "TransactItems" in params:
        return [
            table(item["TableName"])
            for entry in params["TransactItems"]
            for item in entry.values()
            if isinstance(item, Mapping) and "TableName" in item
        ]
    return ["*"]


def denial_response(service: str, message: str) -> tuple[Any, dict[str, Any]]:
    """What botocore's ``before-call`` may return instead of sending: (http, parsed)."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    code, status = DENIAL_CODES.get(service, DEFAULT_DENIAL)
    http = AWSResponse("", status, HTTPHeaders(), None)
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return http, parsed


# ----------------------------------------------------------------------------- in the worker


def install(
    policy: Policy, log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
) -> None:
    """Check every botocore call of this process against ``policy``: registered as built-in
    handlers, so every botocore session created from now on (boto3's too) has them."""
    from botocore import handlers

    def remember(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["roomchat_iam_params"] = params

    def check(model: Any, context: dict[str, Any], **_: Any) -> Any:
        service = model.service_model.signing_name
        if service in SERVER_CHECKED:
            return None
        region = context.get("client_region") or "us-east-1"
        params = context.get("roomchat_iam_params") or {}
        action, resources = call_resources(service, model.name, params, region, policy.account)
        message = policy.denial(action, resources)
        if message is None:
            return None
        log(f"{DENIED_MARK} {message}")
        return denial_response(service, message)

    handlers.BUILTIN_HANDLERS.append(("before-parameter-build", remember))
    handlers.BUILTIN_HANDLERS.append(("before-call", check))


def install_from_environment(environ: dict[str, str]) -> bool:
    """worker.py's entry point: the policy file named by POLICY_FILE_ENV, if any (removed from
    the environment first). Whether a policy was installed."""
    path = environ.pop(POLICY_FILE_ENV, None)
    if not path:
        return False
    with open(path, encoding="utf-8") as f:
        install(Policy.from_document(json.load(f)))
    return True


# ----------------------------------------------------------------------------- in the gateway


def account_roles(iam: Any) -> dict[str, list[Any]]:
    """Every role of the account and its statements, inline and attached, as the emulator holds
    them: one paginated GetAccountAuthorizationDetails (22 roles in ~0.1 s, where three calls
    per role took ~1 s of the gateway's start)."""
    roles: list[Any] = []
    managed: dict[str, Any] = {}
    marker = None
    while True:
        page = iam.get_account_authorization_details(
            Filter=["Role", "LocalManagedPolicy"], **({"Marker": marker} if marker else {})
        )
        roles += page.get("RoleDetailList", [])
        for policy in page.get("Policies", []):
            for version in policy.get("PolicyVersionList", []):
                if version.get("IsDefaultVersion"):
                    managed[policy["Arn"]] = version["Document"]
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            break
    found: dict[str, list[Any]] = {}
    for role in roles:
        statements: list[Any] = []
        for inline in role.get("RolePolicyList", []):
            statements += _statements(inline["PolicyDocument"])
        for attached in role.get("AttachedManagedPolicies", []):
            arn = attached["PolicyArn"]
            statements += _statements(managed.get(arn) or _aws_managed(iam, arn))
        found[role["Arn"]] = statements
    return found


def _aws_managed(iam: Any, arn: str) -> Any:
    """An AWS managed policy's document (the account listing holds the account's own only)."""
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]


def _statements(doc: Any) -> list[Any]:
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc) if doc.startswith("%7B") else doc)
    statements = doc.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def connections_resource(
    region: str, account: str, api_id: str, stage: str, method: str, connection_id: str
) -> str:
    """The ARN API Gateway authorizes an @connections request on."""
    return (
        f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/@connections/"
        f"{connection_id}"
    )


class RoleGuards:
    """The gateway's side: for each function, its role's policy read from the emulator, written
    to a file its workers load (POLICY_FILE_ENV), and a session token of its own in its
    credentials, by which its ``@connections`` requests are known (``authorize_connections``).
    Requests signed with any other token (the developer's, the tests') are the account owner's
    and allowed, as an administrator's would be."""

    def __init__(self, emulator_endpoint: str, region: str, log: Callable[[str], None]) -> None:
        self.emulator_endpoint = emulator_endpoint
        self.region = region
        self.log = log
        self.folder: str | None = None  # made on the first configure()
        self.by_token: dict[str, Policy] = {}
        self._iam: Any = None
        self._roles: dict[str, list[Any]] = {}  # role ARN -> statements (account_roles)

    def _client(self) -> Any:
        if self._iam is None:
            import boto3

            self._iam = boto3.client(
                "iam",
                endpoint_url=self.emulator_endpoint,
                region_name=self.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._iam

    def configure(self, function: str, role_arn: str, env: dict[str, str]) -> None:
        """Give ``env`` (a function's environment) its role's policy and session token."""
        import os
        import secrets
        import tempfile

        if role_arn not in self._roles:  # first use, or a role made since: read them all
            self._roles = account_roles(self._client())
        doc = {"role": role_arn, "session": function, "statements": self._roles.get(role_arn, [])}
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="roomchat-iam-")
        path = os.path.join(self.folder, f"{function}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        token = f"local-session-{function}-{secrets.token_hex(8)}"
        env[POLICY_FILE_ENV] = path
        env["AWS_SESSION_TOKEN"] = token
        self.by_token[token] = Policy.from_document(doc)

    def authorize_connections(
        self, method: str, headers: Mapping[str, str], api_id: str, stage: str, connection_id: str
    ) -> tuple[int, str, str] | None:
        """(status, error type, message) refusing an @connections request, or None. Unsigned
        requests are refused as API Gateway refuses them; a function's are checked against its
        role."""
        if not headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return 403, "ForbiddenException", "Missing Authentication Token"
        policy = self.by_token.get(headers.get("X-Amz-Security-Token", ""))
        if policy is None:
            return None
        resource = connections_resource(
            self.region, policy.account, api_id, stage, method, connection_id
        )
        message = policy.denial("execute-api:ManageConnections", [resource])
        if message is None:
            return None
        self.log(f"{DENIED_MARK} {message}")
        return 403, "AccessDeniedException", message

    def cleanup(self) -> None:
        import shutil

        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
