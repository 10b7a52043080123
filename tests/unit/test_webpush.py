"""The Web Push adapter (pywebpush: aes128gcm, RFC 8291; VAPID, RFC 8292) against the local
push service stand-in, which checks the VAPID JWT and the coding as a push service does; the
test decrypts what arrived with the subscription's private key, as the browser would."""

from __future__ import annotations

import json
import time

import pytest
import requests

from roomchat.adapters.push import WebPushSender
from roomchat.notification_ports import Device, PushOutcome
from roomchat_tools import vapid
from roomchat_tools.local.webpush import BrowserSubscription, WebPushStandIn, check_vapid


@pytest.fixture(scope="module")
def service():
    standin = WebPushStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def keys():
    return vapid.new_keys()


def _subscribe(service, server_key: str) -> BrowserSubscription:
    resp = requests.post(
        service.base_url + "/subscribe", json={"applicationServerKey": server_key}, timeout=5
    )
    assert resp.status_code == 201
    return BrowserSubscription(resp.json()["endpoint"])


def _device(sub: BrowserSubscription) -> Device:
    j = sub.to_json()
    return Device("d1", "webpush", j["endpoint"], j["keys"]["p256dh"], j["keys"]["auth"])


def _received(sub: BrowserSubscription) -> list[dict]:
    return requests.get(sub.endpoint.replace("/push/", "/_received/"), timeout=5).json()["messages"]


def test_a_push_arrives_encrypted_and_the_browser_decrypts_it(service, keys):
    sub = _subscribe(service, keys["publicKey"])
    payload = {"type": "notification", "roomId": "lobby", "excerpt": "héllo @bob"}
    sender = WebPushSender(keys["privateKey"], "mailto:ops@example.invalid")

    outcome = sender.push(_device(sub), json.dumps(payload).encode(), 60)

    assert outcome is PushOutcome.DELIVERED
    [got] = _received(sub)
    assert got["ttl"] == "60"
    assert sub.decrypt(got["body"]) == payload
    assert json.dumps(payload).encode() not in got["body"].encode()


def test_a_gone_subscription_answers_410_and_the_adapter_says_gone(service, keys):
    sub = _subscribe(service, keys["publicKey"])
    requests.post(sub.endpoint.replace("/push/", "/_gone/"), timeout=5)
    sender = WebPushSender(keys["privateKey"], "mailto:ops@example.invalid")
    assert sender.push(_device(sub), b"{}", 60) is PushOutcome.GONE


def test_a_push_signed_with_another_vapid_key_is_refused(service, keys):
    sub = _subscribe(service, keys["publicKey"])
    other = WebPushSender(vapid.new_keys()["privateKey"], "mailto:ops@example.invalid")
    assert other.push(_device(sub), b"{}", 60) is PushOutcome.FAILED
    assert _received(sub) == []


def test_the_stand_in_refuses_a_push_without_vapid_or_with_a_plain_body(service, keys):
    sub = _subscribe(service, keys["publicKey"])
    no_auth = requests.post(sub.endpoint, data=b"x" * 200, headers={"TTL": "60"}, timeout=5)
    assert no_auth.status_code == 401
    assert _received(sub) == []


def test_the_vapid_check_wants_the_origin_as_audience(keys):
    from py_vapid import Vapid

    v = Vapid.from_string(private_key=keys["privateKey"])
    headers = v.sign(
        {"aud": "https://elsewhere.example", "exp": int(time.time()) + 60, "sub": "mailto:a@b.c"}
    )
    with pytest.raises(ValueError, match="aud"):
        check_vapid(headers["Authorization"], "http://127.0.0.1:1", time.time())
