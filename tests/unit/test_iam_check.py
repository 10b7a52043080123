"""The local stack's IAM check (roomchat_tools/local/iam_check.py): how a call becomes an action
and resource ARNs, how a role's statements decide, and the error a refused call raises in a
function's own botocore client, as AWS's would."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from roomchat_tools.local import iam_check
from roomchat_tools.local.iam_check import Policy, call_resources

ACCOUNT = "123456789012"
ROOMS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/roomchat-rooms"


def policy(*statements: dict) -> Policy:
    role = f"arn:aws:iam::{ACCOUNT}:role/roomchat-join"
    return Policy.from_document(
        {"role": role, "session": "roomchat-join", "statements": statements}
    )


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("dynamodb", "GetItem", {"TableName": "roomchat-rooms"}, ("dynamodb:GetItem", [ROOMS])),
        (
            "dynamodb",
            "Query",
            {"TableName": "roomchat-rooms", "IndexName": "byConnection"},
            ("dynamodb:Query", [ROOMS + "/index/byConnection"]),
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"roomchat-rooms": [], "roomchat-history": []}},
            (
                "dynamodb:BatchWriteItem",
                [ROOMS, ROOMS.replace("roomchat-rooms", "roomchat-history")],
            ),
        ),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": f"http://127.0.0.1:5000/{ACCOUNT}/roomchat-fanout"},
            ("sqs:SendMessage", [f"arn:aws:sqs:us-east-1:{ACCOUNT}:roomchat-fanout"]),
        ),
        (
            "sqs",
            "GetQueueUrl",
            {"QueueName": "roomchat-fanout"},
            ("sqs:GetQueueUrl", [f"arn:aws:sqs:us-east-1:{ACCOUNT}:roomchat-fanout"]),
        ),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "roomchat-review_hook"},
            (
                "lambda:InvokeFunction",
                [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:roomchat-review_hook"],
            ),
        ),
        (
            "ssm",
            "GetParameter",
            {"Name": "/roomchat/keys"},
            ("ssm:GetParameter", [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/roomchat/keys"]),
        ),
        ("sts", "GetCallerIdentity", {}, ("sts:GetCallerIdentity", ["*"])),
    ],
)
def test_a_call_is_its_iam_action_on_the_arns_it_touches(service, operation, params, expected):
    assert call_resources(service, operation, params, "us-east-1", ACCOUNT) == expected


def test_an_allow_must_name_the_action_and_the_exact_resource():
    role = policy(allow(["dynamodb:GetItem", "dynamodb:Query"], [ROOMS]))
    assert role.denial("dynamodb:GetItem", [ROOMS]) is None
    assert role.denial("DynamoDB:getitem", [ROOMS]) is None  # actions ignore case
    index = role.denial("dynamodb:Query", [ROOMS + "/index/byConnection"])
    assert index == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/roomchat-join/roomchat-join is not "
        f"authorized to perform: dynamodb:Query on resource: {ROOMS}/index/byConnection because "
        "no identity-based policy allows the dynamodb:Query action"
    )
    assert role.denial("dynamodb:PutItem", [ROOMS]) is not None
    assert role.denial("dynamodb:GetItem", [ROOMS.upper()]) is not None  # ARNs keep case


def test_wildcards_not_actions_and_an_explicit_deny():
    posts = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/live/POST/@connections/*"
    role = policy(
        allow("execute-api:ManageConnections", posts),
        allow("dynamodb:*", "*"),
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:sqs:*"},
    )
    post = posts.replace("*", "Zm9vYmFyYmF6PQ=")
    assert role.denial("execute-api:ManageConnections", [post]) is None
    assert role.denial("execute-api:ManageConnections", [post.replace("POST", "DELETE")])
    assert role.denial("dynamodb:Scan", ["anything"]) is None
    assert "explicit deny" in role.denial("dynamodb:DeleteTable", [ROOMS])
    assert role.denial("sqs:SendMessage", ["arn:aws:sqs:us-east-1:1:q"]) is None
    assert role.denial("s3:GetObject", ["arn:aws:sqs:us-east-1:1:q"]) is not None


def test_a_conditional_allow_never_applies_and_a_conditional_deny_always_does():
    condition = {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
    assert policy(allow("kms:Decrypt", key, Condition=condition)).denial("kms:Decrypt", [key])
    denied = policy(
        allow("sqs:SendMessage", "*"),
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": condition},
    )
    assert "explicit deny" in denied.denial("sqs:SendMessage", ["arn:aws:sqs:us-east-1:1:q"])


def test_every_resource_of_a_call_must_be_allowed():
    history = ROOMS.replace("roomchat-rooms", "roomchat-history")
    role = policy(allow("dynamodb:BatchWriteItem", ROOMS))
    assert role.denial("dynamodb:BatchWriteItem", [ROOMS, history]) is not None


@pytest.fixture
def checked(monkeypatch):
    """install() on a copy of botocore's built-in handlers, so it leaves this process as it was."""
    from botocore import handlers

    monkeypatch.setattr(handlers, "BUILTIN_HANDLERS", list(handlers.BUILTIN_HANDLERS))
    denied: list[str] = []

    def install(*statements):
        iam_check.install(policy(*statements), log=denied.append)

    return install, denied


def test_a_refused_call_raises_awss_error_in_the_functions_client_and_is_never_sent(checked):
    install, denied = checked
    with mock_aws():
        botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1"
        ).create_table(
            TableName="roomchat-rooms",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        install(allow("dynamodb:GetItem", ROOMS))
        # A session made after install(), as every function's is.
        client = botocore.session.get_session().create_client("dynamodb", region_name="us-east-1")
        assert "Item" not in client.get_item(TableName="roomchat-rooms", Key={"k": {"S": "x"}})
        with pytest.raises(ClientError) as refused:
            client.put_item(TableName="roomchat-rooms", Item={"k": {"S": "x"}})
        stored = client.get_item(TableName="roomchat-rooms", Key={"k": {"S": "x"}})
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "dynamodb:PutItem on resource: " + ROOMS in error["Message"]
    assert "Item" not in stored  # never reached the emulator
    assert denied and denied[0].startswith(iam_check.DENIED_MARK)


def test_sqs_answers_access_denied_as_sqs_does(checked):
    install, _ = checked
    with mock_aws():
        botocore.session.get_session().create_client("sqs", region_name="us-east-1").create_queue(
            QueueName="q"
        )
        install(allow("sqs:GetQueueUrl", "*"))
        client = botocore.session.get_session().create_client("sqs", region_name="us-east-1")
        url = client.get_queue_url(QueueName="q")["QueueUrl"]
        with pytest.raises(ClientError) as refused:
            client.send_message(QueueUrl=url, MessageBody="x")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_the_role_is_read_back_from_iam_inline_and_attached():
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="r",
            PolicyName="inline",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": allow("dynamodb:GetItem", ROOMS)}
            ),
        )
        managed = iam.create_policy(
            PolicyName="m",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [allow("sqs:SendMessage", "*")]}
            ),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=managed)
        statements = iam_check.account_roles(iam)[role]
    doc = {"role": role, "session": "fn", "statements": statements}
    actions = [s.actions for s in Policy.from_document(doc).statements]
    assert actions == [("dynamodb:GetItem",), ("sqs:SendMessage",)]
    assert Policy.from_document(doc).denial("sqs:SendMessage", ["arn:aws:sqs:x:1:q"]) is None


def test_management_requests_are_checked_by_the_session_that_signed_them(tmp_path):
    guards = iam_check.RoleGuards("http://unused", "us-east-1", log=lambda line: None)
    guards.by_token["tok"] = policy(
        allow(
            "execute-api:ManageConnections",
            f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc/live/POST/@connections/*",
        )
    )
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/...",
        "X-Amz-Security-Token": "tok",
    }
    try:
        assert guards.authorize_connections("POST", signed, "abc", "live", "c1") is None
        refused = guards.authorize_connections("DELETE", signed, "abc", "live", "c1")
        assert refused is not None and refused[:2] == (403, "AccessDeniedException")
        owner = {"Authorization": signed["Authorization"], "X-Amz-Security-Token": "mine"}
        assert guards.authorize_connections("DELETE", owner, "abc", "live", "c1") is None
        unsigned = guards.authorize_connections("POST", {}, "abc", "live", "c1")
        assert unsigned == (403, "ForbiddenException", "Missing Authentication Token")
    finally:
        guards.cleanup()
