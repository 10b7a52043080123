"""The command line: `python -m roomchat_tools.bench [--smoke] [--stack-file ...] ...`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from roomchat_tools.local.proctree import descendants

from .analysis import analyse
from .plan import Plan
from .processes import DEFAULT_OUT
from .report import console_table, write_reports
from .run import Bench
from .servers import serve_role


def _plan(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Plan:
    """The run's plan: full or smoke, with --sizes and --rtt-ms applied."""
    plan = Plan.tiny() if args.smoke else Plan.full()
    if args.sizes and not args.tier_phase:
        sizes = sorted({int(x) for x in args.sizes.split(",")})
        if not sizes or sizes[0] < 1 or sizes[-1] > 1000:
            parser.error("--sizes must be between 1 and 1000")
        plan.iterations = {k: plan.iterations.get(k, 10 if k >= 500 else 20) for k in sizes}
        plan.rtt_iterations = {k: plan.rtt_iterations.get(k, 3 if k >= 500 else 5) for k in sizes}
        plan.sizes = sizes
    if args.rtt_ms is not None:
        plan.rtt_ms = args.rtt_ms
    _tier_sizes(plan, args.tier_sizes or (args.sizes if args.tier_phase else None), parser)
    return plan


def _tier_sizes(plan: Plan, given: str | None, parser: argparse.ArgumentParser) -> None:
    """--tier-sizes (or --sizes with --tier-phase) applied to the plan."""
    if not given:
        return
    wanted = sorted({int(x) for x in given.split(",")} - {0})
    if wanted and (wanted[0] < 2 or wanted[-1] > 10_000):
        parser.error("tier sizes must be between 2 and 10000 (0: no tier phase)")
    plan.tier_iterations = {k: plan.tier_iterations.get(k, 3) for k in wanted}
    plan.tier_sizes = wanted


def _tier_paper() -> int:
    """`--tier-paper`: the on-paper AWS table, printed."""
    from .tier import paper_table

    print(paper_table())
    return 0


def _tier_phase(bench: Bench, deadline_s: float) -> int:
    """`--tier-phase`: the tier phase alone (make bench runs it too), printed, not written to
    bench/results."""
    from .tier_phase import console_lines, markdown_section

    results = bench.run_tier_only(deadline_s)
    print(json.dumps(results.get("tier"), default=str))
    print("\n".join(markdown_section(results)))
    print("\n".join(console_lines(results)))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_serve":
        return serve_role(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m roomchat_tools.bench",
        description="Fan-out latency, DynamoDB read cost and cold start, against baselines.",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny run (rooms of 2 and 20)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the reports go")
    parser.add_argument(
        "--stack-file", type=Path, help="measure a running stack (its stack.json) instead"
    )
    parser.add_argument("--sizes", help="room sizes, e.g. 10,100,1000 (at most 1000)")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        help="the AWS-like post round trip added in the second mode (default 10; 0: loopback only)",
    )
    parser.add_argument("--deadline", type=float, default=1800, help="seconds before giving up")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="only rewrite the reports from a raw file"
    )
    parser.add_argument(
        "--posters-only",
        action="store_true",
        help="only the poster CPU phase (botocore client vs signed poster; no stack), printed",
    )
    parser.add_argument(
        "--workers", type=int, default=32, help="fan-out threads for --posters-only (default 32)"
    )
    parser.add_argument(
        "--tier-paper",
        action="store_true",
        help="only the fan-out tier's on-paper AWS table (1k/10k/100k members), printed",
    )
    parser.add_argument(
        "--tier-phase",
        action="store_true",
        help="only the tier phase: rooms of --sizes members (default 1000,5000): inline vs the "
        "fan-out tier vs the sample's design vs the limit; printed",
    )
    parser.add_argument(
        "--tier-sizes",
        help="room sizes of the tier phase (default 1000,5000; at most 10000; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.tier_paper:
        return _tier_paper()
    if args.render:
        results = json.loads(args.render.read_text())
        results.pop("analysis", None)
        md, png, raw = write_reports(results, args.out, keep_run=False)
        print(console_table(results, analyse(results)))
        print(f"\nreport: {md}\nplot:   {png}\nraw:    {raw}")
        return 0
    plan = _plan(args, parser)
    bench = Bench(plan, args.out, args.stack_file, quiet=args.quiet)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.posters_only:
            print(json.dumps(bench.run_posters_only(args.workers), indent=1))
            return 0
        if args.tier_phase:
            return _tier_phase(bench, args.deadline)
        results = bench.run(args.deadline)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except TimeoutError:
        print(f"error: the run took longer than {args.deadline:.0f} s", file=sys.stderr)
        return 1
    finally:
        bench.stack.stop()
        import shutil

        shutil.rmtree(bench.work, ignore_errors=True)
        left = descendants(os.getpid())
        if left:
            print(f"warning: stopping leftover processes {sorted(left)}", file=sys.stderr)
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    md, png, raw = write_reports(results, args.out)
    analysis = results.get("analysis") or analyse(results)
    print(console_table(results, analysis))
    print(f"\nreport: {md}\nplot:   {png}\nraw:    {raw}")
    return 0


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
