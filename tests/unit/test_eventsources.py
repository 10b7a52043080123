"""The local stack's SQS event source poller: which records a batch leaves on the queue, as
Lambda decides it (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
The whole poller runs in tests/reliability/test_fanout_tier_stack.py."""

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
