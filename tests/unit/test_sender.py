"""The @connections sender against botocore's Stubber: 410 is gone, 429/500 are failures that
do not stop the rest (moto's management API never answers 410, so it cannot show this)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from roomchat.adapters.connections import ManagementApiSender, SharedExecutor
from roomchat.ports import Delivery

ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/test"


@pytest.fixture
def client():
    session = botocore.session.get_session()
    return session.create_client(
        "apigatewaymanagementapi",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def test_gone_is_pruned_and_failures_do_not_stop_the_others(client):
    # Stubber answers in call order, so post one after another (a one-thread pool).
    sender = ManagementApiSender(client, SharedExecutor(1))
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "a", "Data": b"x"})
        stub.add_client_error(
            "post_to_connection",
            "GoneException",
            http_status_code=410,
            expected_params={"ConnectionId": "gone", "Data": b"x"},
        )
        stub.add_client_error(
            "post_to_connection",
            "LimitExceededException",
            http_status_code=429,
            expected_params={"ConnectionId": "throttled", "Data": b"x"},
        )
        stub.add_client_error(
            "post_to_connection",
            "InternalServerError",
            http_status_code=500,
            expected_params={"ConnectionId": "broken", "Data": b"x"},
        )
        stub.add_response("post_to_connection", {}, {"ConnectionId": "z", "Data": b"x"})

        outcomes = sender.send_many(["a", "gone", "throttled", "broken", "z"], b"x")

        stub.assert_no_pending_responses()
    assert outcomes == {
        "a": Delivery.DELIVERED,
        "gone": Delivery.GONE,
        "throttled": Delivery.FAILED,
        "broken": Delivery.FAILED,
        "z": Delivery.DELIVERED,
    }


def test_single_recipient_is_posted_without_the_pool(client):
    def no_pool():
        raise AssertionError("pool used for one recipient")

    sender = ManagementApiSender(client, no_pool)
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "a", "Data": b"x"})
        assert sender.send_many(["a"], b"x") == {"a": Delivery.DELIVERED}


class RecordingClient:
    """A thread-safe stand-in that answers per connection, for concurrent fan-out."""

    def __init__(self, gone=(), failing=()):
        self.gone, self.failing = set(gone), set(failing)
        self.posted: list[str] = []

    def post_to_connection(self, ConnectionId, Data):
        from botocore.exceptions import ClientError

        if ConnectionId in self.gone:
            raise ClientError(
                {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}},
                "PostToConnection",
            )
        if ConnectionId in self.failing:
            raise ClientError(
                {
                    "Error": {"Code": "LimitExceededException"},
                    "ResponseMetadata": {"HTTPStatusCode": 429},
                },
                "PostToConnection",
            )
        self.posted.append(ConnectionId)
        return {}


def test_concurrent_fanout_reaches_everyone_but_the_gone_and_failing():
    ids = [f"c{i}" for i in range(200)]
    client = RecordingClient(gone={"c7", "c150"}, failing={"c42"})
    sender = ManagementApiSender(client, SharedExecutor(16))

    outcomes = sender.send_many(ids, b"frame")

    assert sorted(client.posted) == sorted(set(ids) - {"c7", "c150", "c42"})
    assert [c for c, o in outcomes.items() if o is Delivery.GONE] == ["c7", "c150"]
    assert [c for c, o in outcomes.items() if o is Delivery.FAILED] == ["c42"]


@pytest.fixture
def scripted_endpoint():
    """A loopback @connections endpoint that answers each POST from a per-connection script."""
    import http.server
    import json
    import threading

    scripts: dict[str, list[tuple[int, str]]] = {}
    hits: dict[str, int] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            cid = self.path.rsplit("/", 1)[-1]
            hits[cid] = hits.get(cid, 0) + 1
            status, error_type = scripts[cid].pop(0) if scripts[cid] else (200, "")
            body = b"" if status == 200 else json.dumps({"message": error_type}).encode()
            self.send_response(status)
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/test", scripts, hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("poster", ["signed", "botocore"])
def test_wired_sender_retries_429_and_500_but_never_410(scripted_endpoint, poster):
    """Both posters the wiring can choose (FANOUT_POSTER) keep the same contract."""
    from roomchat.adapters.poster import SignedHttpSender
    from roomchat.settings import Settings
    from roomchat.wiring import build_container

    endpoint, scripts, hits = scripted_endpoint
    scripts["flaky"] = [(429, "LimitExceededException"), (500, "InternalServerError")]
    scripts["gone"] = [(410, "GoneException")]
    scripts["down"] = [(500, "InternalServerError")] * 10
    settings = Settings(rooms_table="r", history_table="h", fanout_workers=8, fanout_poster=poster)
    container = build_container(settings)
    sender = container.sender_for(endpoint)

    outcomes = sender.send_many(["flaky", "gone", "down"], b"frame")

    assert outcomes == {"flaky": Delivery.DELIVERED, "gone": Delivery.GONE, "down": Delivery.FAILED}
    assert hits == {"flaky": 3, "gone": 1, "down": 3}  # standard mode: 3 attempts in all
    assert container.sender_for(endpoint) is sender  # one shared sender per endpoint
    if poster == "botocore":
        assert sender._client.meta.config.max_pool_connections >= 8
    else:
        assert isinstance(sender, SignedHttpSender)


def test_the_signed_poster_is_the_default():
    from roomchat.settings import Settings, SettingsError

    env = {"ROOMS_TABLE": "r", "HISTORY_TABLE": "h"}
    assert Settings.from_env(env).fanout_poster == "signed"
    assert Settings.from_env({**env, "FANOUT_POSTER": "botocore"}).fanout_poster == "botocore"
    with pytest.raises(SettingsError, match="FANOUT_POSTER"):
        Settings.from_env({**env, "FANOUT_POSTER": "curl"})
