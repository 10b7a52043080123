"""Kick, ban and uninvite cannot be outrun by a join racing them.

A join checks the caller's role and ban, then writes the membership; a kick (with a ban)
writes the ban, then lists and removes the user's memberships; an uninvite deletes the role,
then lists and removes them. A join that passed its checks just before the revoke and wrote
just after the listing used to keep its membership. The join now checks again after its
write (write-then-recheck), strongly consistently, so one of the two always sees the other.

Each test replays the race deterministically: the revoke runs, whole, just before the join's
k-th call to the store, for every k, on moto and on DynamoDB Local. Whatever the interleaving,
the user ends with no membership and every later action in the room is refused.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from roomchat import protocol
from roomchat.adapters.dynamodb import DynamoHistory, DynamoModeration, DynamoRooms
from roomchat.errors import ChatError
from roomchat.ports import OPEN, PRIVATE, Ban, Delivery
from roomchat.usecases import OPERATOR, Caller, ChatService, broadcast, membership
from tests.engines import both_engines
from tests.unit.conftest import FakeSender

OWNER_ID, TARGET = "u-owner", "u-mal"
ROOM = "race-room"


class Interleaver:
    """A proxy of a store: before its ``at``-th call (counted across the proxies sharing
    ``calls``), runs ``revoke`` once."""

    def __init__(self, inner: Any, calls: list[str], state: dict[str, Any]):
        self._inner, self._calls, self._state = inner, calls, state

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            if len(self._calls) - 1 == self._state["at"] and not self._state["done"]:
                self._state["done"] = True
                self._state["revoke"]()
            return method(*args, **kwargs)

        return call


def _services(dynamodb, settings, revoke_with, at: int):
    rooms = DynamoRooms(dynamodb, "rooms", "byConnection")
    history = DynamoHistory(dynamodb, "history")
    moderation = DynamoModeration(dynamodb, "history")
    plain = ChatService(rooms, history, FakeSender(), settings, moderation=moderation)
    calls: list[str] = []
    state: dict[str, Any] = {"at": at, "done": False, "revoke": lambda: revoke_with(plain)}
    racing = ChatService(
        Interleaver(rooms, calls, state),
        history,
        FakeSender(),
        settings,
        moderation=Interleaver(moderation, calls, state),
    )
    return plain, racing, calls, state


def _setup(plain: ChatService, policy: str) -> None:
    owner = Caller("O", user_id=OWNER_ID)
    plain.create_room(owner, protocol.CreateRoomRequest(ROOM, policy))
    if policy == PRIVATE:
        plain.invite(owner, protocol.UserRequest(ROOM, TARGET))


def _ban(svc: ChatService) -> None:
    svc.kick(OPERATOR, protocol.KickRequest(ROOM, TARGET, None, True))


def _uninvite(svc: ChatService) -> None:
    svc.uninvite(Caller("O", user_id=OWNER_ID), protocol.UserRequest(ROOM, TARGET))


def _race(dynamodb, settings, policy: str, revoke, at: int) -> tuple[ChatService, str, str, int]:
    plain, racing, calls, state = _services(dynamodb, settings, revoke, at)
    _setup(plain, policy)
    cid = f"M{at}"
    target = Caller(cid, user_id=TARGET)
    try:
        racing.join(target, protocol.JoinRequest(ROOM, "mal"))
        outcome = "joined"
    except ChatError as e:
        outcome = e.code
    if not state["done"]:  # past the join's last call: the revoke comes after it
        revoke(plain)
    return plain, outcome, cid, len(calls)


def _kept_access(plain: ChatService, cid: str) -> bool:
    member = plain.rooms.get_member(ROOM, cid, plain.now_s())
    if member is not None:
        return True
    try:  # and no action of members passes
        plain.typing(Caller(cid, user_id=TARGET), protocol.RoomRequest(ROOM))
    except ChatError:
        return False
    return True


CASES = [
    pytest.param(OPEN, _ban, id="ban-in-an-open-room"),
    pytest.param(PRIVATE, _ban, id="ban-in-a-private-room"),
    pytest.param(PRIVATE, _uninvite, id="uninvite-from-a-private-room"),
]


def _steps(dynamodb, settings, policy, revoke) -> int:
    """How many store calls a join makes here (the revoke placed after all of them)."""
    *_, n = _race(dynamodb, settings, policy, revoke, at=10_000)
    _clear(dynamodb)
    return n


def _clear(dynamodb) -> None:
    for table, keys in (
        ("rooms", ("roomId", "connectionId")),
        ("history", ("roomId", "messageId")),
    ):
        for item in dynamodb.scan(TableName=table)["Items"]:
            dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})


@both_engines
@pytest.mark.parametrize(("policy", "revoke"), CASES)
def test_a_join_racing_a_ban_or_uninvite_never_keeps_access(dynamodb, settings, policy, revoke):
    steps = _steps(dynamodb, settings, policy, revoke)
    assert steps >= 6  # role, ban, membership, record, and the checks again
    outcomes = []
    for at in range(steps + 1):
        plain, outcome, cid, _ = _race(dynamodb, settings, policy, revoke, at)
        assert not _kept_access(plain, cid), (at, outcome)
        outcomes.append(outcome)
        _clear(dynamodb)
    # the revoke came before some joins (refused) and after others (joined, then taken out)
    assert "joined" in outcomes and set(outcomes) - {"joined"}, outcomes


@pytest.mark.parametrize(("policy", "revoke"), CASES)
def test_without_the_recheck_some_interleaving_keeps_access(
    dynamodb, settings, policy, revoke, monkeypatch
):
    """The replay has teeth: with the check-again step taken out, a join placed between the
    revoke's write and its listing keeps its membership (the race the issue describes)."""
    monkeypatch.setattr(membership, "_recheck", lambda *a, **k: None)
    steps = _steps(dynamodb, settings, policy, revoke)
    kept = []
    for at in range(steps + 1):
        plain, _, cid, _ = _race(dynamodb, settings, policy, revoke, at)
        kept.append(plain.rooms.get_member(ROOM, cid, plain.now_s()) is not None)
        _clear(dynamodb)
    assert any(kept), kept


def test_a_banned_user_is_refused_every_action_even_holding_a_membership(dynamodb, settings):
    """A ban holds on every action of members (sendAll, typing, edit, react, history, ...),
    in open rooms too, even for a membership that somehow outlived it."""
    plain, *_ = _services(dynamodb, settings, lambda s: None, at=-1)
    _setup(plain, OPEN)
    mal = Caller("M", user_id=TARGET)
    plain.join(mal, protocol.JoinRequest(ROOM, "mal"))
    plain.moderation.put_ban(Ban(ROOM, TARGET, None, "operator"))  # no kick: the row stays
    attempts = {
        "sendAll": lambda: plain.send(mal, protocol.SendRequest(ROOM, "hi", None)),
        "typing": lambda: plain.typing(mal, protocol.RoomRequest(ROOM)),
        "history": lambda: plain.history_page(mal, protocol.HistoryRequest(ROOM, 10, None)),
        "members": lambda: plain.members(mal, protocol.RoomRequest(ROOM)),
    }
    for action, attempt in attempts.items():
        with pytest.raises(ChatError) as refused:
            attempt()
        assert refused.value.code == "forbidden" and "banned" in refused.value.message, action


class CountingSender(FakeSender):
    """Its DELETEs wait for each other at a barrier (so one at a time fails the test, with
    no timing involved) and count how many run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=20)
        self.lock = threading.Lock()
        self.active = self.most = 0

    def disconnect(self, connection_id: str) -> Delivery:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            self.barrier.wait()  # raises BrokenBarrierError if nobody else runs meanwhile
        finally:
            with self.lock:
                self.active -= 1
        return super().disconnect(connection_id)


def test_a_user_with_many_connections_is_closed_in_parallel_within_a_bound(dynamodb, settings):
    rooms = DynamoRooms(dynamodb, "rooms", "byConnection")
    moderation = DynamoModeration(dynamodb, "history")
    sender = CountingSender()
    svc = ChatService(
        rooms, DynamoHistory(dynamodb, "history"), sender, settings, moderation=moderation
    )
    many = [f"C{i}" for i in range(40)]
    for cid in many:
        svc.join(Caller(cid, user_id=TARGET), protocol.JoinRequest(ROOM, "mal"))
    svc.disconnect_user(OPERATOR, protocol.UserRequest(ROOM, TARGET))
    assert sorted(sender.closed) == sorted(many)
    assert 2 <= sender.most <= broadcast.REMOVAL_WORKERS
    # and a ban-kick takes every membership out
    for cid in many:
        svc.join(Caller(cid + "b", user_id=TARGET), protocol.JoinRequest(ROOM, "mal"))
    svc.kick(OPERATOR, protocol.KickRequest(ROOM, TARGET, None, True))
    assert not [m for m in rooms.list_members(ROOM, svc.now_s()) if m.user_id == TARGET]
