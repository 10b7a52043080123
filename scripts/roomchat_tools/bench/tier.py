"""The fan-out tier on paper: time per message, share of the account's post quota, reads and
dollars per million messages for rooms of 1,000 / 10,000 / 100,000 members on AWS, inline
(send_all alone) and through the tier (docs/design.md, "Big rooms").

Inputs, each from a cited page or from this repository's bench:
- posts: one @connections request per member; the account's quota is 10,000 requests/s
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
- CPU per post: the lean poster's, measured by the bench (``posters`` phase, same machine);
- prices (us-east-1, on-demand, first tiers):
  API Gateway WebSocket $1.00 per million messages (32 KB units) and $0.25 per million
  connection minutes (https://aws.amazon.com/api-gateway/pricing/);
  Lambda arm64 $0.0000133334 per GB-s and $0.20 per million requests
  (https://aws.amazon.com/lambda/pricing/);
  DynamoDB on-demand $0.125 per million read and $0.625 per million write request units
  (https://aws.amazon.com/dynamodb/pricing/on-demand/);
  SQS standard $0.40 per million requests, each 64 KB of payload one request
  (https://aws.amazon.com/sqs/pricing/).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

QUOTA_RPS = 10_000
APIGW_PER_MESSAGE = 1.00e-6
APIGW_PER_CONNECTION_MINUTE = 0.25e-6
LAMBDA_PER_GB_S = 0.0000133334
LAMBDA_PER_REQUEST = 0.20e-6
DDB_PER_RRU = 0.125e-6
DDB_PER_WRU = 0.625e-6
SQS_PER_REQUEST = 0.40e-6
SQS_BILLING_CHUNK = 64 * 1024


@dataclass(frozen=True)
class TierModel:
    """The defaults of infra/variables.tf, and what one instance can post."""

    cpu_us_per_post: float = 306.0  # bench/results/latest.json, posters.signed_us_per_post
    threads: int = 32  # FANOUT_WORKERS
    post_rtt_ms: float = 25.0  # one @connections round trip in-region (assumed)
    memory_gb: float = 1.769  # one vCPU
    max_concurrency: int = 8  # fanout_max_concurrency
    quota_share: float = 0.8  # of QUOTA_RPS the tier may take
    chunk: int = 1000  # fanout_chunk_size
    step: int = 250  # FANOUT_STEP_SIZE: one progress write per step
    member_item_bytes: int = (
        120  # a membership item (roomId, connectionId, name, joinedAt, expiresAt)
    )
    frame_bytes: int = 300  # a typical message frame
    query_page_ms: float = 15.0  # one 1 MB Query page
    # sendAll's CPU to parse and filter the Query's answer, per member (at one vCPU): 1,242 ms
    # for 100,000 members measured by `python -m bench.room_read` (docs/design.md).
    parse_us_per_member: float = 12.4
    sqs_call_ms: float = 15.0  # one SendMessageBatch
    pickup_ms: float = 100.0  # the mapping's poller receiving a new message (long polling)
    invoke_ms: float = 20.0  # one warm invocation's overhead

    @property
    def instance_posts_per_s(self) -> float:
        cpu_bound = 1e6 / self.cpu_us_per_post
        io_bound = self.threads / (self.post_rtt_ms / 1000)
        return min(cpu_bound, io_bound)

    @property
    def tier_posts_per_s(self) -> float:
        return min(self.max_concurrency * self.instance_posts_per_s, self.quota_share * QUOTA_RPS)


def _read(model: TierModel, members: int) -> tuple[float, float]:
    """(strongly consistent RCU, seconds) of the Query of one room's membership: its pages one
    after another, and the client's parsing of every item."""
    size = members * model.member_item_bytes
    pages = max(1, math.ceil(size / (1024 * 1024)))
    parse_s = members * model.parse_us_per_member / 1e6
    return math.ceil(size / 4096), pages * model.query_page_ms / 1000 + parse_s


def inline(model: TierModel, members: int) -> dict[str, float]:
    rcu, read_s = _read(model, members)
    post_s = members / model.instance_posts_per_s
    seconds = read_s + post_s
    gb_s = seconds * model.memory_gb
    dollars = (
        members * APIGW_PER_MESSAGE
        + gb_s * LAMBDA_PER_GB_S
        + LAMBDA_PER_REQUEST
        + rcu * DDB_PER_RRU
        + DDB_PER_WRU
    )
    return {
        "members": members,
        "seconds": seconds,
        "fits_29s": seconds < 29,
        "posts_per_s": model.instance_posts_per_s,
        "quota_share": model.instance_posts_per_s / QUOTA_RPS,
        "rcu": rcu,
        "dollars_per_million_messages": dollars * 1e6,
    }


def tier(model: TierModel, members: int) -> dict[str, float]:
    rcu, read_s = _read(model, members)
    chunks = math.ceil((members - 1) / model.chunk)
    body = model.frame_bytes + model.chunk * 20
    per_batch = max(1, min(10, (256 * 1024) // body))
    enqueue_s = math.ceil(chunks / per_batch) * model.sqs_call_ms / 1000
    rate = model.tier_posts_per_s
    one_chunk_s = min(model.chunk, members) / model.instance_posts_per_s
    post_s = max((members - 1) / rate, one_chunk_s)
    seconds = read_s + enqueue_s + model.pickup_ms / 1000 + model.invoke_ms / 1000 + post_s
    worker_gb_s = ((members - 1) / model.instance_posts_per_s + chunks * model.invoke_ms / 1000) * (
        model.memory_gb
    )
    sender_gb_s = (read_s + enqueue_s) * model.memory_gb
    sqs_units = math.ceil(body / SQS_BILLING_CHUNK)
    sqs_requests = math.ceil(chunks / per_batch) * sqs_units + 2 * chunks  # send; receive, delete
    progress_writes = chunks * math.ceil(model.chunk / model.step)
    dollars = (
        members * APIGW_PER_MESSAGE
        + (worker_gb_s + sender_gb_s) * LAMBDA_PER_GB_S
        + (1 + chunks) * LAMBDA_PER_REQUEST
        + rcu * DDB_PER_RRU
        + (1 + progress_writes) * DDB_PER_WRU
        + sqs_requests * SQS_PER_REQUEST
    )
    return {
        "members": members,
        "seconds": seconds,
        "chunks": chunks,
        "posts_per_s": rate,
        "quota_share": rate / QUOTA_RPS,
        "quota_seconds": members / QUOTA_RPS,
        "rcu": rcu,
        "progress_wcu": progress_writes,
        "sqs_requests": sqs_requests,
        "dollars_per_million_messages": dollars * 1e6,
    }


def paper_table(model: TierModel | None = None, sizes=(1000, 10_000, 100_000)) -> str:
    model = model or TierModel()
    lines = [
        f"One instance: {model.instance_posts_per_s:,.0f} posts/s "
        f"(min of 1e6/{model.cpu_us_per_post:.0f} us CPU and {model.threads} threads / "
        f"{model.post_rtt_ms:.0f} ms); the tier: {model.max_concurrency} instances, "
        f"{model.tier_posts_per_s:,.0f} posts/s ({model.quota_share:.0%} of the quota at most).",
        "",
        "| members | inline s | tier s | tier share of quota | quota alone s | RCU/message | "
        "tier $ per 1M messages | of which API Gateway |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        a, t = inline(model, n), tier(model, n)
        inline_s = f"{a['seconds']:.1f}" + ("" if a["fits_29s"] else " (> 29 s)")
        lines.append(
            f"| {n:,} | {inline_s} | {t['seconds']:.2f} | {t['quota_share']:.0%} | "
            f"{t['quota_seconds']:.1f} | {t['rcu']:,} | "
            f"${t['dollars_per_million_messages']:,.0f} | ${n * APIGW_PER_MESSAGE * 1e6:,.0f} |"
        )
    minutes = APIGW_PER_CONNECTION_MINUTE * 60
    lines += [
        "",
        f"Connection minutes are per member, not per message: ${minutes * 1e6:,.0f} per million "
        "member-hours.",
    ]
    return "\n".join(lines)
