"""The local stack's SQS event source poller: which records a batch leaves on the queue, as
Lambda decides it (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
The whole poller runs in tests/reliability/test_fanout_tier_stack.py (and in the bench's
gateway, tests/bench/test_smoke.py)."""

from __future__ import annotations

from roomchat_tools.local.eventsources import SqsMapping, failed_ids

IDS = ["a", "b", "c"]


def mapping(report: bool = True) -> SqsMapping:
    return SqsMapping("u", "arn:aws:sqs:us-east-1:123456789012:q", "url", "fn", 10, 2, report)


def test_a_failed_invocation_leaves_every_record():
    assert failed_ids(mapping(), False, None, IDS) == set(IDS)


def test_listed_failures_only_are_left():
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert failed_ids(mapping(), True, result, IDS) == {"b"}


def test_an_empty_list_or_none_deletes_everything():
    assert failed_ids(mapping(), True, {"batchItemFailures": []}, IDS) == set()
    assert failed_ids(mapping(), True, None, IDS) == set()


def test_an_unknown_or_malformed_identifier_fails_the_whole_batch():
    assert failed_ids(
        mapping(), True, {"batchItemFailures": [{"itemIdentifier": "z"}]}, IDS
    ) == set(IDS)
    assert failed_ids(mapping(), True, {"batchItemFailures": "b"}, IDS) == set(IDS)


def test_without_report_batch_item_failures_the_answer_is_ignored():
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert failed_ids(mapping(report=False), True, result, IDS) == set()


def test_a_mapping_the_stack_took_over_is_found_again_only_when_asked():
    """The bench's gateway runs the tier on a copy of the queue: it reads the mapping the
    stack has already disabled in the emulator (include_disabled), without disabling it."""
    import io
    import json
    import zipfile

    import boto3
    from moto import mock_aws

    from roomchat_tools.local.eventsources import read_sqs_mappings

    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {"Version": "2012-10-17", "Statement": []}
        role = iam.create_role(RoleName="fanout", AssumeRolePolicyDocument=json.dumps(trust))
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return None\n")
        lam = boto3.client("lambda", region_name="us-east-1")
        lam.create_function(
            FunctionName="fanout",
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="handler.handle",
            Code={"ZipFile": code.getvalue()},
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="roomchat-fanout")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        lam.create_event_source_mapping(
            EventSourceArn=arn["QueueArn"],
            FunctionName="fanout",
            BatchSize=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": 8},
        )
        (taken,) = read_sqs_mappings(lam, sqs)  # the stack: read, then disabled in moto
        assert (taken.queue_url, taken.batch_size, taken.max_concurrency) == (url, 1, 8)
        assert taken.report_batch_item_failures
        assert read_sqs_mappings(lam, sqs) == []  # disabled: a second stack would not run it
        again = read_sqs_mappings(lam, sqs, disable=False, include_disabled=True)
        assert again == [taken]


def test_a_pool_environment_update_retires_idle_workers():
    """FunctionPool.set_env, as a function configuration update: new invocations start with
    the new values, idle environments with the old ones are stopped."""
    import asyncio
    from pathlib import Path

    from roomchat_tools.local.runtime import FunctionPool, FunctionSpec

    killed = []

    class IdleWorker:
        proc = None

        async def kill(self) -> None:
            killed.append(self)

    async def scenario() -> FunctionPool:
        spec = FunctionSpec(
            name="f",
            arn="arn",
            handler="h.h",
            code_sha256="sha",
            environment={},
            timeout_s=3.0,
            memory_mb=128,
            runtime="python3.11",
        )
        pool = FunctionPool(spec, Path("."), {"A": "1", "B": "2"}, 1, lambda f, line: None)
        worker = IdleWorker()
        pool._idle.append(worker)
        pool._all.add(worker)
        pool.set_env({"B": "3"})
        await asyncio.sleep(0)  # the kill runs
        return pool

    pool = asyncio.run(scenario())
    assert pool.env == {"A": "1", "B": "3"}
    assert pool._idle == [] and len(killed) == 1
