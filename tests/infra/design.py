"""docs/design.md's tables, parsed: the infra tests compare what Terraform built with the
markdown itself, so the contract cannot drift from the deployment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DESIGN_MD = Path(__file__).resolve().parents[2] / "docs" / "design.md"


@dataclass(frozen=True)
class Route:
    route_key: str
    function: str  # name suffix: <name_prefix>-<function>
    handler: str
    two_way: bool


@dataclass(frozen=True)
class Permissions:
    rooms: frozenset[str]  # DynamoDB actions on the rooms table
    rooms_by_connection: frozenset[str]  # ... on the byConnection index
    history: frozenset[str]  # ... on the history table
    post_to_connections: bool
    delete_connections: bool  # may close connections (the @connections DELETE)
    connections_note: str  # the whole @connections cell (the authorizer's SSM note is there)


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def _table_after(heading_text: str) -> list[list[str]]:
    """The rows (header and separator dropped) of the first table after a heading."""
    lines = DESIGN_MD.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading_text in line)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            break
    return rows[2:]


@dataclass(frozen=True)
class Authorizer:
    function: str
    handler: str
    identity_source: str


@cache
def _lambda_rows() -> list[list[str]]:
    return _table_after("Lambda code")


@cache
def routes() -> dict[str, Route]:
    """Route table of "## Lambda code (functions/)", by route key (the authorizer row, whose
    "route key" is in parentheses, is not a route)."""
    found = {}
    for route_key, function, handler, replies in _lambda_rows():
        if not route_key.startswith("("):
            found[route_key] = Route(route_key, function, handler, replies.startswith("yes"))
    return found


@cache
def authorizer() -> Authorizer:
    """The "(authorizer)" row: the opt-in REQUEST authorizer on $connect."""
    for route_key, function, handler, notes in _lambda_rows():
        if route_key == "(authorizer)":
            source = re.search(r"identity source `([^`]+)`", notes)
            assert source, notes
            return Authorizer(function, handler, source.group(1))
    raise LookupError("docs/design.md has no (authorizer) row")


def _actions(cell: str) -> frozenset[str]:
    if cell in ("-", ""):
        return frozenset()
    return frozenset(f"dynamodb:{action.strip()}" for action in cell.split(","))


@cache
def permissions() -> dict[str, Permissions]:
    """ "What each function calls (least privilege)", by function name suffix."""
    found = {}
    for function, rooms, index, history, connections in _table_after("What each function calls"):
        found[function] = Permissions(
            _actions(rooms),
            _actions(index),
            _actions(history),
            "POST" in connections.split(", "),
            "DELETE" in connections.split(", "),
            connections,
        )
    return found


@cache
def queue_actions() -> dict[str, frozenset[str]]:
    """ "On the fan-out queue (SQS)": sqs:<Action> names by function name suffix (functions
    not listed may not touch the queue)."""
    return {
        function: frozenset(f"sqs:{a.strip()}" for a in actions.split(","))
        for function, actions in _table_after("On the fan-out queue")
    }


@cache
def review_functions() -> frozenset[str]:
    """The functions that may invoke the message review hook ("`send_all` and `edit` may also
    `lambda:InvokeFunction`" under "What each function calls")."""
    text = DESIGN_MD.read_text(encoding="utf-8")
    found = re.search(r"\n([^\n]*?) may also `lambda:InvokeFunction`", text)
    assert found, "docs/design.md no longer says who may invoke the review hook"
    return frozenset(re.findall(r"`([a-z_]+)`", found.group(1)))


@cache
def environment() -> frozenset[str]:
    """The variables of "### Environment" (what every routed function is given)."""
    return frozenset(row[0] for row in _table_after("Environment"))


@cache
def bucket_actions() -> dict[str, dict[str, frozenset[str]]]:
    """ "On the attachments bucket (S3)": s3:<Action> names by function and key prefix
    (`uploads`, `thumbs`); functions not listed may not touch the bucket."""
    found: dict[str, dict[str, frozenset[str]]] = {}
    for function, uploads, thumbs in _table_after("On the attachments bucket"):
        found[function] = {
            prefix: frozenset(f"s3:{a.strip()}" for a in cell.split(","))
            for prefix, cell in (("uploads", uploads), ("thumbs", thumbs))
            if cell not in ("-", "")
        }
    return found
