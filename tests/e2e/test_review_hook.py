"""The message review hook through the local stack's Lambda Invoke API: the deployed hook runs in
the gateway's workers (moto's own Invoke needs Docker), reached by the same botocore client and
adapter the functions use on AWS, with the timeout falling back as configured."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from roomchat.adapters.review import LambdaReviewer
from roomchat.ports import ReviewVerdict
from roomchat_tools.local.apimodel import emulator_clients, load_api
from tests.e2e.conftest import _gateway_thread

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hooks(emulator, aws, test_zip, real_zip, test_api):
    """An API whose one function names two hooks in its environment (as REVIEW_FUNCTION does):
    the sample word list (the real deployment zip) and a slow one; the gateway runs both."""
    lam, apigw = aws["lambda"], aws["apigatewayv2"]
    role = aws["iam"].get_role(RoleName="gw-test")["Role"]["Arn"]

    def function(name, handler, zip_path, env):
        return lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler=handler,
            Code={"ZipFile": zip_path.read_bytes()},
            Timeout=10,
            MemorySize=256,
            Environment={"Variables": env},
        )["FunctionArn"]

    sample = function(
        "gw-review-sample",
        "roomchat.review_hook.handler",
        real_zip,
        {"REVIEW_BLOCKED_WORDS": "heck", "REVIEW_DENY_WORDS": "spam"},
    )
    slow = function("gw-review-slow", "gw_handlers.on_slow_review", test_zip, {"SLEEP_S": "1"})
    routed = function(
        "gw-review-route",
        "gw_handlers.on_echo",
        test_zip,
        {"REVIEW_FUNCTION": sample, "OTHER_HOOK": slow},
    )
    api_id = apigw.create_api(
        Name="gw-review", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{routed}/invocations"
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri
    )
    apigw.create_route(
        ApiId=api_id, RouteKey="$default", Target=f"integrations/{integration['IntegrationId']}"
    )
    apigw.create_stage(ApiId=api_id, StageName="test")
    model = load_api(*emulator_clients(emulator.endpoint, emulator.region), api_id=api_id)
    assert set(model.invoked) == {"gw-review-sample", "gw-review-slow"}
    thread = _gateway_thread(emulator, model, test_zip, extra_zips=[real_zip])
    gw = thread.start()
    yield gw, sample, slow
    thread.stop()


def _lambda(gateway, emulator, timeout_s: float):
    """A client like the one wiring.py builds: the hook's budget as its timeouts, no retry."""
    kwargs = {k: v for k, v in emulator.client_kwargs().items() if k != "endpoint_url"}
    return boto3.client(
        "lambda",
        endpoint_url=gateway.http_url,
        config=Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"mode": "standard", "total_max_attempts": 1},
        ),
        **kwargs,
    )


def test_the_sample_hook_allows_masks_and_denies_through_the_invoke_api(hooks, emulator):
    gateway, sample, _ = hooks
    reviewer = LambdaReviewer(_lambda(gateway, emulator, 5), sample, "deny")

    assert reviewer.review("lobby", "A", "ana", "hello").verdict is ReviewVerdict.ALLOW
    masked = reviewer.review("lobby", "A", "ana", "what the Heck")
    assert (masked.verdict, masked.text) == (ReviewVerdict.REPLACE, "what the ****")
    denied = reviewer.review("lobby", "A", "ana", "buy spam now")
    assert denied.verdict is ReviewVerdict.DENY and "spam" in denied.reason


@pytest.mark.parametrize("fallback", ["allow", "deny"])
def test_a_slow_hook_times_out_into_the_configured_fallback(hooks, emulator, fallback):
    gateway, _, slow = hooks
    reviewer = LambdaReviewer(_lambda(gateway, emulator, 0.2), slow, fallback)

    started = time.monotonic()
    review = reviewer.review("lobby", "A", "ana", "hi")
    elapsed = time.monotonic() - started

    expected = ReviewVerdict.ALLOW if fallback == "allow" else ReviewVerdict.DENY
    assert review.verdict is expected
    assert elapsed < 0.9  # the hook sleeps 1 s: the answer did not wait for it


def test_invoking_an_unknown_function_is_resource_not_found(hooks, emulator):
    gateway, _, _ = hooks
    with pytest.raises(ClientError) as caught:
        _lambda(gateway, emulator, 5).invoke(FunctionName="nope", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
