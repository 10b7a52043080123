"""Where the functions post (@connections) when Terraform sets no CALLBACK_URL: the API's own
execute-api endpoint, also when the client came in through a custom domain, whose
requestContext.domainName is the custom host and whose base path is not the stage.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import dataclasses

from roomchat import handlers
from tests.unit.conftest import Context


def _endpoints(chat, monkeypatch, domain: str) -> list[str]:
    container = handlers.container()
    container.settings = dataclasses.replace(
        container.settings, callback_url=None, region="eu-west-1"
    )
    seen: list[str] = []
    original = container.sender_for

    def sender_for(endpoint: str):
        seen.append(endpoint)
        return original(endpoint)

    container.sender_for = sender_for
    chat.connect("A")
    event = chat.event("A", "join", '{"action":"join","roomId":"lobby","name":"ana"}')
    event["requestContext"].update(domainName=domain, apiId="abc123", stage="live")
    handlers.on_join(event, Context())
    return seen


def test_a_custom_domain_still_posts_to_the_execute_api_endpoint(chat, monkeypatch):
    seen = _endpoints(chat, monkeypatch, "chat.example.com")
    assert seen[-1] == "https://abc123.execute-api.eu-west-1.amazonaws.com/live"


def test_the_execute_api_domain_gives_the_same_endpoint(chat, monkeypatch):
    seen = _endpoints(chat, monkeypatch, "abc123.execute-api.eu-west-1.amazonaws.com")
    assert seen[-1] == "https://abc123.execute-api.eu-west-1.amazonaws.com/live"
