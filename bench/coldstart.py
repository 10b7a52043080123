"""One cold start, timed: ``python -s -P bench/coldstart.py <task_root> roomchat|baseline`` with
PYTHONPATH=<task_root>, as Lambda's runtime finds the function's package first.

Run by the bench (roomchat_tools.bench) in a fresh interpreter each time (no user site, no
PYTHON* variables but the ones it sets), with the function's environment, from the extracted
deployment zip. Prints one JSON object with milliseconds since the interpreter handed over to
this script:

- ``import_ms``: importing the handler module, which is what Lambda's init phase does;
- ``sdk_ms``: the handler import plus the AWS SDK modules the handler will use (roomchat imports
  botocore lazily, on the first invocation; the baseline imports boto3 at module level);
- ``setup_ms``: all of that plus building the clients as the first invocation does
  (``roomchat.handlers.container()`` and the @connections sender; for the baseline its boto3
  DynamoDB table resource and management API client).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    task_root, kind = os.path.realpath(argv[1]), argv[2]
    if kind == "roomchat":
        import roomchat.handlers as handlers

        imported = time.perf_counter()
        import botocore.config
        import botocore.session  # noqa: F401  (what wiring.build_container imports)

        sdk = time.perf_counter()
        container = handlers.container()
        container.sender_for(os.environ["CALLBACK_URL"])
        module_file = handlers.__file__
    elif kind == "baseline":
        import handler

        imported = sdk = time.perf_counter()
        handler._connections()
        handler._management({"requestContext": {"domainName": "example.com", "stage": "live"}})
        module_file = handler.__file__
    else:
        raise SystemExit(f"unknown handler kind {kind!r}")
    done = time.perf_counter()
    if not os.path.realpath(module_file).startswith(task_root + os.sep):
        raise SystemExit(f"{module_file} is not from the deployment package in {task_root}")
    result = {
        "import_ms": (imported - started) * 1000,
        "sdk_ms": (sdk - started) * 1000,
        "setup_ms": (done - started) * 1000,
        "modules": len(sys.modules),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
