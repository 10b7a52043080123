"""Warm restarts without a stack (roomchat_tools.local.snapshot and local/stack.py's restore):
the inputs' fingerprint, the snapshot file and every way it can be unusable, moto's state
pickled and put back into a new emulator (queues with their messages and mappings, functions
with their code, KMS keys that still sign and decrypt, tables with their items), and what a
restore does before the stack uses the emulator (mappings enabled as Terraform made them, the
closed connections' items cleared)."""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from pathlib import Path

import boto3
import pytest

from roomchat.adapters.dynamodb import lives_with_a_connection
from roomchat_tools.local import emulator as emulator_mod
from roomchat_tools.local import snapshot
from roomchat_tools.local import stack as devstack
from tests.tables import ROOMS_TABLE

REGION, ACCOUNT = "us-east-1", "123456789012"


# ---------------------------------------------------------------------------------------------
# The fingerprint of the apply's inputs
# ---------------------------------------------------------------------------------------------


def test_the_fingerprint_changes_with_every_input_and_only_then(tmp_path):
    zip_path = tmp_path / "functions.zip"
    zip_path.write_bytes(b"code 1")
    variables = {"lambda_zip_path": str(zip_path)}
    first = snapshot.fingerprint("init-1", variables, REGION, ACCOUNT)
    assert first == snapshot.fingerprint("init-1", dict(variables), REGION, ACCOUNT)
    others = [
        snapshot.fingerprint("init-2", variables, REGION, ACCOUNT),  # module, lock, terraform
        snapshot.fingerprint("init-1", {**variables, "log_level": "DEBUG"}, REGION, ACCOUNT),
        snapshot.fingerprint("init-1", variables, "eu-west-1", ACCOUNT),
        snapshot.fingerprint("init-1", variables, REGION, "000000000000"),
    ]
    zip_path.write_bytes(b"code 2")  # same path, new code
    others.append(snapshot.fingerprint("init-1", variables, REGION, ACCOUNT))
    assert first not in others and len(set(others)) == len(others)


def test_a_saved_plan_is_named_by_the_fingerprint(tmp_path, monkeypatch):
    monkeypatch.delenv("ROOMCHAT_PLAN_CACHE", raising=False)
    assert devstack._plan_path(tmp_path, "ab" * 32) == tmp_path / "plan" / f"{'ab' * 16}.tfplan"
    monkeypatch.setenv("ROOMCHAT_PLAN_CACHE", "0")
    assert devstack._plan_path(tmp_path, "ab" * 32) is None


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------

STATE = {
    "version": 4,
    "resources": [
        {
            "module": "module.tables",
            "mode": "managed",
            "type": "aws_dynamodb_table",
            "name": "rooms",
            "instances": [{"attributes": {"id": "t-rooms", "name": "t-rooms"}}],
        },
        {
            "mode": "managed",
            "type": "aws_lambda_event_source_mapping",
            "name": "fanout",
            "instances": [{"attributes": {"id": "u-1", "uuid": "u-1", "enabled": True}}],
        },
        {
            "module": "module.functions",
            "mode": "managed",
            "type": "aws_lambda_function",
            "name": "this",
            "instances": [
                {"index_key": "ping", "attributes": {"id": "p-ping"}},
                {"index_key": "join", "attributes": {"id": "p-join"}},
            ],
        },
        {
            "module": "module.monitoring[0]",
            "mode": "data",
            "type": "aws_region",
            "name": "current",
            "instances": [{"attributes": {"id": "us-east-1"}}],
        },
        {
            "mode": "managed",
            "type": "aws_cognito_user_pool_client",
            "name": "this",
            "instances": [{"index_key": 0, "attributes": {"id": "client-1"}}],
        },
    ],
    "outputs": {
        "api_id": {"value": "abc", "type": "string"},
        "secret": {"value": "s3cret", "type": "string", "sensitive": True},
        "nothing": {"value": None, "type": "string"},
    },
}


def _write(path: Path, backends: bytes = b"backends", **overrides) -> None:
    args = {
        "backends": backends,
        "tfstate": json.dumps(STATE).encode(),
        "fingerprint": "fp-1",
        "region": REGION,
        "account": ACCOUNT,
    }
    snapshot.write(path, **{**args, **overrides})


def test_a_snapshot_reads_back_as_written(tmp_path):
    path = tmp_path / "emulator.snapshot"
    _write(path)
    read = snapshot.read(path, region=REGION, account=ACCOUNT)
    assert read.backends == b"backends" and json.loads(read.tfstate) == STATE
    assert read.fingerprint == "fp-1"
    assert read.meta["moto"] == snapshot.moto_version()
    assert read.meta["python"] == snapshot.python_version()
    assert 0 <= read.age_s < 60
    assert [p.name for p in tmp_path.iterdir()] == ["emulator.snapshot"]  # no temporary left


def _corrupt(path: Path, how: str) -> None:
    raw = path.read_bytes()
    header_end = raw.index(b"\n", len(snapshot.MAGIC)) + 1
    if how == "truncated":
        path.write_bytes(raw[: len(raw) - 100])
    elif how == "flipped":
        path.write_bytes(raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:])
    elif how == "cut-header":
        path.write_bytes(raw[: len(snapshot.MAGIC) + 20])
    elif how == "not-a-snapshot":
        path.write_bytes(b"PK\x03\x04 something else")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbled-meta":
        path.write_bytes(snapshot.MAGIC + b"{not json\n" + raw[header_end:])
    else:
        meta = json.loads(raw[len(snapshot.MAGIC) : header_end - 1])
        key, value = how.split("=")
        meta[key] = int(value) if key == "format" else value
        path.write_bytes(snapshot.MAGIC + json.dumps(meta).encode() + b"\n" + raw[header_end:])


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("truncated", "incomplete or altered"),
        ("flipped", "incomplete or altered"),
        ("cut-header", "cut short"),
        ("not-a-snapshot", "header is missing"),
        ("empty", "header is missing"),
        ("garbled-meta", "metadata is not readable"),
        ("moto=4.2.0", "made with moto '4.2.0'"),
        ("python=3.10.1", "made with python '3.10.1'"),
        ("format=0", "made with format 0"),
        ("region=eu-west-1", "made with region 'eu-west-1'"),
        ("account=000000000000", "made with account '000000000000'"),
    ],
)
def test_an_unusable_snapshot_says_why(tmp_path, how, reason):
    path = tmp_path / "emulator.snapshot"
    _write(path)
    _corrupt(path, how)
    with pytest.raises(snapshot.Unusable, match=reason):
        snapshot.read(path, region=REGION, account=ACCOUNT)


def test_no_snapshot_is_unusable_too(tmp_path):
    with pytest.raises(snapshot.Unusable, match="no snapshot of an earlier run"):
        snapshot.read(tmp_path / "emulator.snapshot", region=REGION, account=ACCOUNT)


def test_a_write_that_fails_leaves_the_last_snapshot_whole(tmp_path, monkeypatch):
    path = tmp_path / "emulator.snapshot"
    _write(path, fingerprint="old")
    (tmp_path / ".emulator.snapshot.999999.tmp").write_bytes(b"half")  # a run killed writing
    _write(path, fingerprint="old")
    assert [p.name for p in tmp_path.iterdir()] == ["emulator.snapshot"]

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        _write(path, fingerprint="new")
    assert snapshot.read(path, region=REGION, account=ACCOUNT).fingerprint == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["emulator.snapshot"]


def test_the_state_is_read_as_the_apply_stream_names_it():
    resources = snapshot.state_resources(STATE)
    assert resources["module.tables.aws_dynamodb_table.rooms"]["name"] == "t-rooms"
    assert resources['module.functions.aws_lambda_function.this["ping"]']["id"] == "p-ping"
    assert resources["aws_cognito_user_pool_client.this[0]"]["id"] == "client-1"
    assert "module.monitoring[0].data.aws_region.current" in resources
    assert [
        m["uuid"] for m in snapshot.resources_of_type(STATE, "aws_lambda_event_source_mapping")
    ] == ["u-1"]
    assert snapshot.resources_of_type(STATE, "aws_region") == []  # a data source
    # Null outputs are left out, as in the stream; sensitive ones are in the state.
    assert snapshot.state_outputs(STATE) == {"api_id": "abc", "secret": "s3cret"}
    with pytest.raises(snapshot.Unusable, match="not JSON"):
        snapshot.parse_state(b"{")
    with pytest.raises(snapshot.Unusable, match="version 4"):
        snapshot.parse_state(b'{"version": 3}')


# ---------------------------------------------------------------------------------------------
# moto's state, pickled and restored
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    with emulator_mod.running() as emu:
        yield emu


@pytest.fixture
def aws(emulator):
    emulator.reset()
    yield lambda service: boto3.client(service, **emulator.client_kwargs())
    emulator.reset()


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", f"def handler(event, context):\n    return {text!r}\n")
    return buffer.getvalue()


def _populate(aws) -> dict:
    """A little of everything the stack's emulator holds (the types pickle refuses included:
    SQS's locks, Lambda's weak references and lambda factories, KMS's private keys)."""
    iam, lam, sqs, kms, db, s3 = (aws(s) for s in ("iam", "lambda", "sqs", "kms", "dynamodb", "s3"))
    role = iam.create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    function = lam.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip("v1")},
    )
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="$LATEST")
    queue = sqs.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lam.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName="fn", Enabled=False
    )["UUID"]
    sqs.send_message(QueueUrl=queue, MessageBody="waiting")
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(KeyId=signing, Message=b"hello", SigningAlgorithm="RSASSA_PSS_SHA_256")[
        "Signature"
    ]
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = kms.encrypt(KeyId=symmetric, Plaintext=b"secret")["CiphertextBlob"]
    db.create_table(TableName="t-rooms", **ROOMS_TABLE)
    db.put_item(
        TableName="t-rooms", Item={"roomId": {"S": "acl#r"}, "connectionId": {"S": "#room#r"}}
    )
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="functions.zip", Body=b"zip bytes")
    return {
        "code_sha": function["CodeSha256"],
        "mapping": mapping,
        "queue": queue,
        "signing": signing,
        "signature": signature,
        "symmetric": symmetric,
        "secret": secret,
    }


def test_moto_state_is_restored_whole_into_a_new_emulator(emulator, aws):
    made = _populate(aws)
    data = snapshot.capture_backends()
    emulator.reset()
    assert aws("lambda").list_functions()["Functions"] == []
    services = snapshot.restore_backends(data)
    assert {"iam", "lambda", "sqs", "kms", "dynamodb", "s3"} <= set(services)

    lam, sqs, kms = aws("lambda"), aws("sqs"), aws("kms")
    assert lam.get_function(FunctionName="fn")["Configuration"]["CodeSha256"] == made["code_sha"]
    assert lam.get_alias(FunctionName="fn", Name="live")["FunctionVersion"] == "$LATEST"
    mapping = lam.get_event_source_mapping(UUID=made["mapping"])
    assert mapping["State"] == "Disabled"
    assert mapping["FunctionArn"].endswith(":function:fn")
    received = sqs.receive_message(QueueUrl=made["queue"])["Messages"]
    assert [m["Body"] for m in received] == ["waiting"]
    assert kms.verify(
        KeyId=made["signing"],
        Message=b"hello",
        Signature=made["signature"],
        SigningAlgorithm="RSASSA_PSS_SHA_256",
    )["SignatureValid"]
    assert kms.decrypt(CiphertextBlob=made["secret"])["Plaintext"] == b"secret"
    assert aws("s3").get_object(Bucket="code", Key="functions.zip")["Body"].read() == b"zip bytes"
    assert aws("dynamodb").scan(TableName="t-rooms")["Count"] == 1
    # Still a working emulator: new resources next to the restored ones.
    aws("sqs").create_queue(QueueName="another")
    assert len(aws("sqs").list_queues()["QueueUrls"]) == 2


def test_a_pickle_that_does_not_load_is_unusable():
    with pytest.raises(snapshot.Unusable, match="does not load"):
        snapshot.restore_backends(b"\x80\x05not a pickle")


# ---------------------------------------------------------------------------------------------
# The stack's restore: what it clears and enables, and its fallback to a fresh start
# ---------------------------------------------------------------------------------------------


def test_only_the_items_of_connections_are_cleared():
    key = lambda room, conn: {"roomId": {"S": room}, "connectionId": {"S": conn}}  # noqa: E731
    assert lives_with_a_connection(key("lobby", "c1"))  # a membership
    assert lives_with_a_connection(key("conn#c1", "c1"))  # the profile
    assert lives_with_a_connection(key("conn#c1", "#c1"))  # the connection record
    assert not lives_with_a_connection(key("acl#lobby", "#room#lobby"))  # the room record
    assert not lives_with_a_connection(key("acl#lobby", "#role#user-1"))  # a role
    assert not lives_with_a_connection(key("fanout#01J", "0#1"))  # fan-out progress


def _stack_state(made: dict) -> dict:
    state = json.loads(json.dumps(STATE))
    state["resources"][1]["instances"][0]["attributes"].update(
        id=made["mapping"], uuid=made["mapping"], enabled=True
    )
    return state


def _snapshot_of(emulator, aws, work: Path) -> dict:
    made = _populate(aws)
    db = aws("dynamodb")
    for room, conn in [("lobby", "c1"), ("conn#c1", "c1"), ("conn#c1", "#c1"), ("lobby", "c2")]:
        db.put_item(TableName="t-rooms", Item={"roomId": {"S": room}, "connectionId": {"S": conn}})
    _write(
        snapshot.path_in(work),
        backends=snapshot.capture_backends(),
        tfstate=json.dumps(_stack_state(made)).encode(),
    )
    emulator.reset()
    return made


def test_a_restore_enables_the_mappings_and_clears_the_closed_connections(
    emulator, aws, tmp_path, caplog
):
    made = _snapshot_of(emulator, aws, tmp_path)
    with caplog.at_level(logging.INFO, logger="devstack"):
        restored = devstack._restore(emulator, tmp_path)
    assert restored is not None and restored.snapshot.fingerprint == "fp-1"
    assert json.loads((tmp_path / "terraform.tfstate").read_text()) == _stack_state(made)
    assert restored.ids()["module.tables.aws_dynamodb_table.rooms"] == "t-rooms"
    # As Terraform made it (the stack that saved the snapshot had disabled it to poll it).
    assert aws("lambda").get_event_source_mapping(UUID=made["mapping"])["State"] == "Enabled"
    items = aws("dynamodb").scan(TableName="t-rooms")["Items"]
    assert [(i["roomId"]["S"], i["connectionId"]["S"]) for i in items] == [("acl#r", "#room#r")]
    assert "4 items of closed connections cleared" in caplog.text


@pytest.mark.parametrize("damage", ["truncated", "moto=0.0.1", "bad-pickle"])
def test_an_unusable_snapshot_leaves_an_empty_emulator_and_says_why(
    emulator, aws, tmp_path, caplog, damage
):
    _snapshot_of(emulator, aws, tmp_path)
    path = snapshot.path_in(tmp_path)
    if damage == "bad-pickle":  # passes every check but does not load: restored in part at most
        _write(path, backends=b"\x80\x05garbage")
    else:
        _corrupt(path, damage)
    aws("sqs").create_queue(QueueName="left-over")
    with caplog.at_level(logging.INFO, logger="devstack"):
        assert devstack._restore(emulator, tmp_path) is None
    assert "fresh start: " in caplog.text
    assert not path.exists()  # the next start does not try it again
    assert not (tmp_path / "terraform.tfstate").exists()
    assert aws("sqs").list_queues().get("QueueUrls", []) == []  # fresh: empty
