"""Metrics in CloudWatch's embedded metric format (EMF), written by the handlers' own logger.

Every record is checked against the JSON schema the specification publishes and against the
rules the schema cannot express (targets at the top level, numbers for metrics, strings for
dimensions): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from roomchat import logs

ROOT = Path(__file__).resolve().parents[2]
MONITORING_TF = ROOT / "infra" / "modules" / "monitoring" / "alarms.tf"

UNITS = (
    "Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    "Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|"
    "Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|"
    "Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None"
)

# The schema from the specification page ("Embedded metric format example and JSON schema").
EMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer"},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 0,
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 1024,
                                        },
                                        "Unit": {"type": "string", "pattern": f"^({UNITS})$"},
                                        "StorageResolution": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check_emf(record: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Validate one record against the specification; return its metrics {name: (value, unit)}."""
    jsonschema.validate(record, EMF_SCHEMA)
    metrics: dict[str, tuple[float, str]] = {}
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                # "The values within this array MUST also be members on the root-node" (strings)
                assert isinstance(record.get(key), str) and len(record[key]) <= 1024, key
        for metric in directive["Metrics"]:
            value = record.get(metric["Name"])  # a target member, never nested
            assert isinstance(value, int | float) and not isinstance(value, bool), metric
            metrics[metric["Name"]] = (value, metric.get("Unit", "None"))
    return metrics


def emf_records(out: str, event: str | None = None) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [r for r in records if "_aws" in r and (event is None or r["event"] == event)]


@pytest.fixture(autouse=True)
def _fresh_target(monkeypatch):
    monkeypatch.setenv("METRICS_NAMESPACE", "roomchat-test")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "roomchat-test-send_all")
    monkeypatch.setattr(logs, "_metric_target", None)


@pytest.fixture
def room(chat):
    chat.connect("A")
    chat.connect("B")
    chat.connect("C")
    for cid, name in (("A", "ana"), ("B", "bob"), ("C", "cy")):
        chat.join(cid, "lobby", name)
    return chat


def test_a_metrics_record_is_one_json_line_valid_per_the_specification(capsys):
    logs.bind(action="sendAll", connectionId="A")
    logs.metrics("sent", {"members": (3, logs.COUNT), "sendToLastPost": (12, logs.MILLISECONDS)})

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert check_emf(record) == {"members": (3, "Count"), "sendToLastPost": (12, "Milliseconds")}
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "roomchat-test"
    # by function, and the whole stack (the empty set, which the alarms use)
    assert directive["Dimensions"] == [["FunctionName"], []]
    assert record["FunctionName"] == "roomchat-test-send_all"
    assert abs(record["_aws"]["Timestamp"] - record["ts"] * 1000) < 1000
    # still an ordinary log record, with the invocation's context
    assert record["connectionId"] == "A" and record["event"] == "sent"


def test_the_checker_rejects_a_record_that_breaks_the_specification():
    good = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "n", "Dimensions": [[]], "Metrics": [{"Name": "x"}]}
            ],
        },
        "x": 1,
    }
    check_emf(good)
    for broken in (
        {**good, "x": "1"},  # a metric target must be a number
        {k: v for k, v in good.items() if k != "x"},  # ... and present at the top level
        {**good, "_aws": {**good["_aws"], "Timestamp": "now"}},
        {
            **good,
            "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "n", "Metrics": []}]},
        },
    ):
        with pytest.raises((AssertionError, jsonschema.ValidationError)):
            check_emf(broken)


def test_send_all_emits_the_fanout_counts_and_latency(room, capsys):
    capsys.readouterr()
    room.sender.failing.add("C")

    room.send("A", action="sendAll", roomId="lobby", message="hi")

    (record,) = emf_records(capsys.readouterr().out, "sent")
    metrics = check_emf(record)
    assert {k: v for k, (v, _) in metrics.items() if k != "sendToLastPost"} == {
        "messagesSent": 1,
        "members": 3,
        "delivered": 2,
        "pruned": 0,
        "failed": 1,
        "timedOut": 0,
    }
    assert metrics["sendToLastPost"][1] == "Milliseconds" and metrics["sendToLastPost"][0] >= 0
    assert record["action"] == "sendAll" and record["roomId"] == "lobby"


def test_a_retried_send_is_not_counted_as_a_new_message(room, capsys):
    room.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="m1")
    capsys.readouterr()

    room.send("A", action="sendAll", roomId="lobby", message="hi", clientMsgId="m1")

    (record,) = emf_records(capsys.readouterr().out, "sent")
    assert check_emf(record)["messagesSent"] == (0, "Count")
    assert record["duplicate"] is True


def test_pruned_connections_are_counted(room, capsys):
    capsys.readouterr()
    room.sender.gone.add("B")

    room.send("A", action="sendAll", roomId="lobby", message="hi")

    (record,) = emf_records(capsys.readouterr().out, "sent")
    assert check_emf(record)["pruned"] == (1, "Count")


def test_presence_fanout_of_a_join_is_counted(room, capsys):
    capsys.readouterr()
    room.connect("D")
    room.join("D", "lobby", "dee")

    (record,) = emf_records(capsys.readouterr().out, "presence_sent")
    metrics = check_emf(record)
    assert (metrics["members"][0], metrics["delivered"][0]) == (3, 3)


def test_refused_and_rate_limited_requests_are_counted(room, capsys):
    capsys.readouterr()
    room.send("A", action="history", roomId="elsewhere")  # not a member

    (refused,) = emf_records(capsys.readouterr().out, "refused")
    assert check_emf(refused) == {"refused": (1, "Count")}
    assert refused["code"] == "not_member"

    room.sender.failing.clear()
    limiter = type("Deny", (), {"allow": lambda self, cid, now: False})()
    from roomchat import handlers

    handlers.container().limiter = limiter
    room.send("A", action="sendAll", roomId="lobby", message="too fast")

    (limited,) = emf_records(capsys.readouterr().out, "refused")
    assert check_emf(limited) == {"refused": (1, "Count"), "rateLimited": (1, "Count")}


def test_a_failed_history_write_is_counted(room, capsys):
    from roomchat import handlers
    from roomchat.errors import StorageError

    class BrokenHistory:
        def append(self, *args, **kwargs):
            raise StorageError("PutItem history failed: InternalServerError")

    handlers.container().history = BrokenHistory()
    capsys.readouterr()

    reply = room.send("A", action="sendAll", roomId="lobby", message="lost?")

    assert reply["code"] == "internal"
    (record,) = emf_records(capsys.readouterr().out, "history_write_failed")
    assert check_emf(record) == {"historyWriteFailures": (1, "Count")}
    assert record["level"] == "ERROR"


def _stack_alarm_metric(key: str) -> tuple[str, str]:
    """(metric_name, namespace) of one alarm on the functions' own metrics in the monitoring
    module's alarms.tf: its entry in local.stack_alarms, and the namespace that group is given
    where the groups are merged into the one alarm resource."""
    text = MONITORING_TF.read_text()
    stack = re.search(r"\n  stack_alarms = {\n(.*?)\n  }\n", text, re.S)
    assert stack, f"no local.stack_alarms in {MONITORING_TF}"
    entry = re.search(rf"\n    {re.escape(key)} = {{\n(.*?)\n    }}", "\n" + stack.group(1), re.S)
    assert entry, f"no alarm {key} in local.stack_alarms"
    name = re.search(r'metric\s*=\s*"([^"]+)"', entry.group(1))
    namespace = re.search(r"local\.stack_alarms : .*?namespace = ([^,}]+)", text)
    assert name and namespace, entry.group(1)
    return name.group(1), namespace.group(1).strip()


def test_the_fanout_failure_alarm_watches_a_metric_on_send_all_emits(room, capsys):
    """The alarm's metric name and namespace (the stack's EMF namespace, no dimension) are what
    a real on_send_all invocation writes when a member's post fails."""
    metric_name, namespace = _stack_alarm_metric("fanout-failures")
    assert namespace == "var.metrics_namespace"
    capsys.readouterr()
    room.sender.failing.add("B")

    room.send("A", action="sendAll", roomId="lobby", message="hi")

    (record,) = emf_records(capsys.readouterr().out, "sent")
    metrics = check_emf(record)
    assert metrics[metric_name] == (1, "Count")
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert [] in directive["Dimensions"]  # the alarm reads the dimensionless series
    assert directive["Namespace"] == "roomchat-test"


def test_the_alarms_data_is_written_whatever_log_level_says(room, capsys, monkeypatch):
    """LOG_LEVEL=WARNING (a valid Terraform log_level) quiets the INFO chatter, not the EMF
    records the alarms and the dashboard read: a failing member still counts."""
    metric_name, _ = _stack_alarm_metric("fanout-failures")
    monkeypatch.setattr(logs, "_threshold", logs._threshold)  # restored after the test
    logs.set_level("WARNING")
    capsys.readouterr()
    room.sender.failing.add("B")

    room.send("A", action="sendAll", roomId="lobby", message="hi")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    (record,) = emf_records("\n".join(json.dumps(r) for r in lines), "sent")
    assert check_emf(record)[metric_name] == (1, "Count")
    assert all("_aws" in r for r in lines if r["level"] == "INFO")  # no plain INFO line
