"""Stack control: the local stack (started here, or a running one from its stack.json), and the
sample design deployed into its emulator as the baseline."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..local import launcher
from ..stackfile import dynamodb_endpoint
from .processes import BASELINE_DIR, REPO_ROOT, die_with_parent


class Stack:
    """The local stack of a run: started through the tests' launcher
    (roomchat_tools.local.launcher), or a running one named by its stack.json (``--stack-file``)."""

    def __init__(self, stack_file: Path | None, log: Callable[[str], None]) -> None:
        self.stack_file = stack_file
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.started_s = 0.0

    @property
    def owned(self) -> bool:
        return self.proc is not None

    def start(self, timeout_s: float = 300.0) -> dict[str, Any]:
        if self.stack_file is not None:
            self.info = self._running_and_applied(self.stack_file, timeout_s)
            return self.info
        local = REPO_ROOT / ".local" / "bench"
        (local / "stack.json").unlink(missing_ok=True)
        self.log("local stack: emulator + terraform apply of infra/ + gateway (about a minute)")
        stack = launcher.launch(
            local,
            {
                "ROOMCHAT_PORT": "0",
                "ROOMCHAT_EMULATOR_PORT": "0",
                "ROOMCHAT_IDLE_TIMEOUT": "3600",
                # Every phase (ours and the sample design) on DynamoDB Local, the faster engine
                # with DynamoDB's semantics (local/dataplane.py); ROOMCHAT_DYNAMODB=moto overrides.
                "ROOMCHAT_DYNAMODB": os.environ.get("ROOMCHAT_DYNAMODB") or "local",
            },
            args=["--quiet"],
            timeout_s=timeout_s,
            preexec_fn=lambda: die_with_parent(signal.SIGTERM),  # graceful, if we are killed
        )
        # Measure the whole stack, fan-out tier included, not one still being applied.
        launcher.wait_applied(stack)
        self.proc, self.info, self.started_s = stack.proc, stack.info, stack.ready_s
        return self.info

    def _running_and_applied(self, stack_file: Path, timeout_s: float) -> dict[str, Any]:
        """A running stack's stack.json once its whole apply is done (the fan-out tier's queue
        and mapping come after the chat's path: roomchat_tools.local.stack)."""
        deadline = time.monotonic() + timeout_s
        while True:
            info: dict[str, Any] = json.loads(stack_file.read_text())
            try:
                os.kill(int(info["pid"]), 0)
            except ProcessLookupError:
                raise RuntimeError(f"the stack in {stack_file} is not running") from None
            if info.get("applied", True):  # a stack.json without the key predates it
                return info
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack in {stack_file} is still applying")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc is not None:
            launcher.stop(self.proc)


def aws_client(service: str, endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )


def baseline_zip(path: Path) -> Path:
    """bench/baseline/handler.py as a deployment zip (handler.py at the root, like the sample)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        archive.writestr(info, (BASELINE_DIR / "handler.py").read_bytes())
    path.write_bytes(buffer.getvalue())
    return path


BASELINE_ROUTES = {
    "$connect": "handler.on_connect",
    "$disconnect": "handler.on_disconnect",
    "sendmessage": "handler.on_send_message",
    "$default": "handler.on_default",
}


def deploy_baseline(info: dict[str, Any], zip_path: Path, suffix: str) -> dict[str, Any]:
    """The sample design in the stack's emulator: a table, its functions and its own API."""
    endpoint, region = info["emulator_endpoint"], info["region"]
    ddb = aws_client("dynamodb", dynamodb_endpoint(info), region)  # where ours has its tables
    iam = aws_client("iam", endpoint, region)
    lam = aws_client("lambda", endpoint, region)
    apigw = aws_client("apigatewayv2", endpoint, region)
    name = f"roomchat-bench-{suffix}"
    table = f"{name}-connections"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = role["Role"]["Arn"]
    api_id = apigw.create_api(
        Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    code = zip_path.read_bytes()
    functions = []
    for route_key, handler in BASELINE_ROUTES.items():
        function_name = f"{name}-{route_key.strip('$').lower()}"
        arn = lam.create_function(
            FunctionName=function_name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=29,
            MemorySize=256,
            Environment={"Variables": {"TABLE_NAME": table}},
        )["FunctionArn"]
        functions.append(function_name)
        uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
        integration = apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
        )["IntegrationId"]
        apigw.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="live")
    return {"api_id": api_id, "table": table, "role": name, "functions": functions}


def remove_baseline(info: dict[str, Any], deployed: dict[str, Any]) -> None:
    """Best effort: leave a shared emulator (the tests' stack) as it was."""
    endpoint, region = info["emulator_endpoint"], info["region"]
    with contextlib.suppress(Exception):
        aws_client("apigatewayv2", endpoint, region).delete_api(ApiId=deployed["api_id"])
    lam = aws_client("lambda", endpoint, region)
    for function_name in deployed["functions"]:
        with contextlib.suppress(Exception):
            lam.delete_function(FunctionName=function_name)
    with contextlib.suppress(Exception):
        aws_client("dynamodb", dynamodb_endpoint(info), region).delete_table(
            TableName=deployed["table"]
        )
    with contextlib.suppress(Exception):
        aws_client("iam", endpoint, region).delete_role(RoleName=deployed["role"])
