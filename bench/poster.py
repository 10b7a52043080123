"""The fan-out with nothing else: a warm process like the sendAll function's, posting frames.

Started by the bench (roomchat_tools.bench) as ``python -s -P bench/poster.py <task_root>``
(PYTHONPATH=<task_root>, so ``roomchat`` comes from the deployment package) with the sendAll
function's own environment (FANOUT_WORKERS, FANOUT_POSTER, CALLBACK_URL, ...), it imports
``roomchat`` from the extracted deployment zip and builds the @connections sender exactly as the
function does (``wiring.build_container(...).sender_for(callback_url)``: the lean signed poster
by default, or the botocore client with FANOUT_POSTER=botocore; a pool of FANOUT_WORKERS
threads). It reads no table: that is the point, it is the "limit" the real fan-out is compared
with, and the process whose CPU per post the poster phase compares.

Protocol: one JSON object per line on stdin, one reply per line on stdout.
    {"ids": ["connId", ...]}          -> {"ok": true, "ids": N}
    {"data": "<frame>"}               -> {"ok": true, "wall_s": .., "cpu_s": .., "delivered": N}
End of input (stdin closed) stops it.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    task_root = os.path.realpath(argv[1])
    # The protocol keeps the real stdout; the function's JSON logs go to stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    import roomchat
    from roomchat.settings import Settings
    from roomchat.wiring import build_container

    if not os.path.realpath(roomchat.__file__).startswith(task_root + os.sep):
        raise SystemExit(f"roomchat was imported from {roomchat.__file__}, not {task_root}")
    settings = Settings.from_env()
    sender = build_container(settings).sender_for(settings.callback_url or "")
    ids: list[str] = []
    out.write(json.dumps({"ok": True, "workers": settings.fanout_workers}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        if "ids" in command:
            ids = list(command["ids"])
            out.write(json.dumps({"ok": True, "ids": len(ids)}) + "\n")
            continue
        data = command["data"].encode()
        cpu, wall = time.process_time(), time.perf_counter()
        outcomes = sender.send_many(ids, data)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        delivered = sum(1 for o in outcomes.values() if o.name == "DELIVERED")
        reply = {"ok": True, "wall_s": wall, "cpu_s": cpu, "delivered": delivered}
        out.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
