"""The prose of the report, with the numbers filled in from the run."""

from __future__ import annotations

from typing import Any

from .costmodel import ACCOUNT_RPS, PAPER_RTTS_MS, ours_rcu


def _tuning_values(results: dict[str, Any], analysis: dict[str, Any]) -> dict[str, Any]:
    loop = results["sweeps"].get("loopback", [])
    rtt = results["sweeps"].get("rtt", {})
    rows = rtt.get("rows", [])
    rates = [r["posts_per_s"] for r in loop if r.get("posts_per_s")]
    best = max((r["posts_per_s"] for r in rows), default=0.0)
    knee = next((r["workers"] for r in rows if r["posts_per_s"] >= 0.9 * best), None)
    serial = next((r["posts_per_s"] for r in rows if r["workers"] == 1), None)
    workers = results["settings"].get("fanout_workers")
    chosen = next((r["posts_per_s"] for r in rows if r["workers"] == workers), None)
    return {
        "loop_low": min(rates) if rates else 0.0,
        "loop_high": max(rates) if rates else 0.0,
        "cpu": analysis["cpu_us_per_post"],
        "rtt_ms": rtt.get("rtt_ms", 0.0),
        "serial": serial or 0.0,
        "chosen": chosen or 0.0,
        "best": best,
        "knee": knee or "-",
        "workers": workers,
        "speedup": analysis.get("rtt_speedup") or 0.0,
        "cover": (workers or 0) * analysis["cpu_us_per_post"] / 1000,
        "half": next((r["posts_per_s"] for r in rows if r["workers"] == (workers or 0) // 2), 0.0),
        "double": next((r["posts_per_s"] for r in rows if r["workers"] == (workers or 0) * 2), 0.0),
    }


FANOUT_NOTES = """\
Each API is served by a gateway process of its own, started by the bench: \
`roomchat_tools.local.gateway.Gateway`, the code `make run` serves with, reading the API back \
from the emulator (ours as Terraform applied it, the baseline's as the bench created it) and \
running the deployed zip in worker processes; the emulator stays in the stack's process, so \
neither API shares a process with it. Both APIs' tables are on {tables}. The clients (aiohttp) \
all live in the bench's process. Two post round trips: **loopback** as it is (a post is answered \
in well under a millisecond, so only CPU counts), and **+{rtt:.0f} ms**: the gateway waits that \
long before handling each @connections POST, the round trip a post from a Lambda function to API \
Gateway takes on AWS (the member gets the frame, and the poster its answer, that much later). The \
bare broadcast makes no posts."""


TUNING_NOTES = """\
What the sweeps show. On loopback the pool's width hardly matters \
({loop_low:,.0f}-{loop_high:,.0f} posts/s whatever the worker count): each post costs about \
{cpu:,.0f} µs of CPU (signing, sending and parsing one HTTP request: the poster's own CPU \
clock), the GIL serialises that work, and a loopback round trip is far shorter, so one thread \
posting one after another is nearly as fast as many. When every post takes {rtt_ms:.0f} ms, as on \
AWS, one worker manages {serial:,.0f} posts/s and {workers} workers {chosen:,.0f} \
({speedup:.0f}x); {knee} workers already reach 90% of the best ({best:,.0f} posts/s), where \
the CPU per post is the limit again ({half:,.0f} posts/s with half as many workers, \
{double:,.0f} with twice as many)."""


TUNING_CHANGES = """\
What was tuned, from these measurements (functions/roomchat):

- **`FANOUT_WORKERS` stays 32.** With {cpu} µs of CPU per post, one vCPU is saturated once \
the workers cover the round trip (workers x CPU per post >= round trip): the 10 ms sweeps level \
off between 16 and 32 workers, 32 leave room for ~30 ms posts, and 64 or 128 never bought \
anything while adding GIL contention. At the default 256 MB (about 0.15 vCPU) the fan-out is \
CPU-bound at any width: there memory, not the worker count, is the limit (section 6).
- **One shared client, not a pool of clients.** A client per thread (same pool of 8 or 32 \
threads) posted no faster (985-1,044 vs 1,058-1,097 posts/s on this machine) and used more \
memory: botocore clients are thread-safe and the shared HTTP pool has one connection per worker.
- **No batching:** the management API has no multi-connection post, and handing each thread a \
slice of the ids instead of one future per id saves microseconds against a millisecond post.
- **Changed: the fan-out Query reads only what it uses.** `sendAll`, `join`, `leave`, \
`$disconnect` and pruning now read a room's recipients with \
`ProjectionExpression: connectionId, expiresAt` (`DynamoRooms.recipient_ids`; the `members` \
action still reads names). Same RCU (DynamoDB bills the items read), but a 1,000-member \
response shrinks from 194 KB to 79 KB and botocore parses it in 5.3 ms instead of 14.3 ms on \
one core (7x that at 256 MB); in the emulator the Query of 1,000 members drops from about \
450 ms to about 250 ms (its read time is shown above).
- **Changed: `parameter_validation=False` on the @connections client** (ids and bytes we built \
ourselves; API Gateway validates anyway): 5-10% less CPU per post (e.g. 967 -> 889 µs with 32 \
threads, 814 -> 772 µs serially, in a micro-benchmark against a local endpoint).
- **Changed: posts are signed and sent directly** (`roomchat.adapters.poster`, the default; \
`FANOUT_POSTER=botocore` keeps the client): botocore's own `SigV4Auth` signs each post, a \
kept-alive `http.client` connection per pool thread sends it, with the client's contract \
(429/5xx retried with jittered backoff, 3 attempts; 410 gone; anything else failed; \
tests/unit/test_poster.py against a loopback endpoint). One pool task per thread instead of a \
future per post, since a post now costs a few hundred microseconds. The CPU per post of both, \
same run, is in the table below."""


COST_NOTES = """\
The engine's own `ReturnConsumedCapacity` figures (last column; moto's are not what DynamoDB \
would bill) are shown for comparison only: the cost is computed from the items the run really \
wrote and read, the way the *Amazon DynamoDB Developer Guide* describes it:

- item size (*"DynamoDB item sizes and formats"*): the sum over attributes of the attribute \
name's UTF-8 bytes plus the value's bytes: strings their UTF-8 length, numbers about 1 byte per \
two significant digits + 1 byte (leading and trailing zeros trimmed);
- reads (*"DynamoDB read and write operations"*, capacity unit consumption for reads): GetItem \
rounds the item up to the next 4 KB, 1 RCU per 4 KB strongly consistent (ours reads the sender's \
membership strongly consistent); Query and Scan add up the sizes of all the items they read \
(for Scan: every item evaluated, whatever a projection or filter returns), round up to the next \
4 KB, per page of at most 1 MB, and cost half for an eventually consistent read (both the room \
Query and the baseline's Scan are eventually consistent):

  `RCU(message) = ceil(size(membership) / 4 KB) + Σ_pages ceil(Σ size(item in page) / 4 KB) * 0.5`

Ours reads one room: the cost follows the room, whatever the number of connections; the baseline \
reads every connection of every room on every message."""


def _cold_values(cold: dict[str, Any]) -> dict[str, Any]:
    ours, base = cold.get("roomchat", {}), cold.get("baseline", {})
    return {
        "o_import": ours.get("import_ms", 0.0),
        "o_sdk": ours.get("sdk_ms", 0.0),
        "o_setup": ours.get("setup_ms", 0.0),
        "b_import": base.get("import_ms", 0.0),
        "b_setup": base.get("setup_ms", 0.0),
    }


COLD_NOTES = """\
Lambda's init phase imports the handler module: ours takes {o_import:.0f} ms because `roomchat` \
imports only the standard library and `botocore.exceptions`; the SDK (botocore, not boto3: boto3 \
adds its resource layer and s3transfer) is imported when the first invocation builds its \
clients. Counting the SDK import, ours is {o_sdk:.0f} ms against the {target} ms target, and \
{o_setup:.0f} ms once the DynamoDB and @connections clients exist (the first invocation's extra \
latency). The baseline's module-level `import boto3` makes its import alone {b_import:.0f} ms, \
and {b_setup:.0f} ms with its clients. Almost all of either is the AWS SDK itself (importing \
botocore's session and client machinery, loading the DynamoDB service model and endpoint \
rules), which the deployment package cannot shrink."""


PAPER_NOTES = """\
What the measured cost of a post implies on AWS. One sendAll invocation posts at \
`min(workers / round trip, CPU share / CPU per post)` per second: {workers} workers, \
{cpu:,.0f} µs of CPU per post as measured here (assumed the same per core on Lambda's arm64), \
and a CPU share of memory / 1,769 MB ("at 1,769 MB, a function has the equivalent of one \
vCPU"). The function is deployed with {memory} MB and a {timeout} s timeout; API Gateway \
stops waiting for a route's integration after {integration} s; and every post is one request \
against the account's API Gateway throttle quota, {rps:,} requests per second per Region \
*across HTTP, REST, WebSocket and WebSocket callback APIs* ("Amazon API Gateway quotas"). The \
room's Query is left out of the times (1,000 members are one 1 MB page)."""


def _design_values(analysis: dict[str, Any]) -> dict[str, Any]:
    rows = {(r["memory_mb"], r["rtt_ms"]): r for r in analysis["projection"]}
    slow = PAPER_RTTS_MS[-1]
    small, full = rows.get((256, slow)), rows.get((1769, slow))
    member = analysis["item_bytes"]["ours_membership"]
    return {
        "mb100k": 100_000 * member / 1e6,
        "rcu100k": ours_rcu(round(member), [round(member)] * 100_000),
        "rps": ACCOUNT_RPS,
        "rtt": slow,
        "s1k_256": (small or {}).get("seconds", {}).get(1_000, 0.0),
        "s1k_1769": (full or {}).get("seconds", {}).get(1_000, 0.0),
        "s10k_256": (small or {}).get("seconds", {}).get(10_000, 0.0),
        "s10k_1769": (full or {}).get("seconds", {}).get(10_000, 0.0),
        "s100k_1769": (full or {}).get("seconds", {}).get(100_000, 0.0),
    }


DESIGN_NOTES = """\
Reading the table ({rtt} ms posts):

- **1k members** fit the current design's timeouts, but slowly at the default 256 MB \
({s1k_256:.1f} s; {s1k_1769:.1f} s with one vCPU), and each message spends a tenth of a \
second of the account's {rps:,} req/s.
- **10k members** do not fit at 256 MB ({s10k_256:.0f} s, over both timeouts) and take \
{s10k_1769:.0f} s at 1,769 MB (one vCPU; Python's threads cannot use a second one). Each \
message also spends a whole second of the account's post budget: a 10k-member room can carry \
about one message per second, for the whole account.
- **100k members** do not fit one invocation at any size ({s100k_1769:.0f} s at one vCPU), each \
message takes 10 s of the account's quota, and the room's Query reads {mb100k:.0f} MB \
({rcu100k:,.0f} RCU, about half of the 3,000 RCU a second one partition serves) per message.

What this project uses, and what it must add past that point:

1. Today: synchronous fan-out inside the sendAll invocation (history written first, then one \
room's Query and concurrent posts through one shared client). Good up to a few thousand members; \
give `send_all` more memory (CPU) before anything else: fan-out speed is proportional to it up to \
1,769 MB.
2. Past a few thousand members: a fan-out tier. sendAll stores the message and enqueues the \
room's recipients in batches (SQS messages of a few hundred connection ids, or a Step Functions \
Distributed Map over the Query's pages) for a fan-out function that runs many instances at once, \
each with this pool. Delivery time then follows the number of instances, not one invocation's \
CPU, and nothing waits on the 29 s integration timeout.
3. Past ~10k members: shard big rooms (`roomId#n` partitions: no partition read thousands of \
times a second, one fan-out batch per shard), keep the member list in memory for a few seconds \
instead of querying it per message, and raise the account's API Gateway quota — or move such \
rooms to a service that fans out by itself (one publish reaches every subscriber, e.g. AWS IoT \
Core MQTT over WebSockets or AppSync Events): one PostToConnection per member per message \
cannot outrun the account quota."""
