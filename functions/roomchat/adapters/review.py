"""The message review hook: a Lambda function invoked synchronously before a message is stored.

The hook gets ``{"roomId", "authorId", "sender", "message"}`` and answers ``{"verdict": "allow"}``,
``{"verdict": "deny", "reason": "..."}`` or ``{"verdict": "replace", "message": "..."}``. A call
that fails, times out (``timeout_ms``, a budget like Amazon IVS Chat's 200 ms) or answers
anything else decides the configured fallback, so a broken hook can neither crash nor stall
sending. Invoke with RequestResponse returns the function's result in the response Payload, and
a function error as the ``FunctionError`` field with a 200 status:
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import json
from typing import Any

from .. import logs
from ..ports import Review, ReviewVerdict

REASON_MAX = 200


class LambdaReviewer:
    def __init__(self, client: Any, function: str, fallback: str):
        self._client = client
        self._function = function
        self._fallback = (
            Review(ReviewVerdict.DENY, "messages cannot be checked right now; try again later")
            if fallback == "deny"
            else Review(ReviewVerdict.ALLOW)
        )

    def review(self, room_id: str, author_id: str, sender: str, text: str) -> Review:
        payload = {"roomId": room_id, "authorId": author_id, "sender": sender, "message": text}
        try:
            resp = self._client.invoke(
                FunctionName=self._function,
                InvocationType="RequestResponse",
                Payload=json.dumps(payload).encode("utf-8"),
            )
            if resp.get("FunctionError"):
                logs.warning("review_failed", error=resp["FunctionError"])
                return self._fallback
            answer = json.loads(resp["Payload"].read())
        except Exception as e:  # a timeout, a throttle, a bad answer: all the same to a sender
            logs.warning("review_failed", error=type(e).__name__)
            return self._fallback
        return parse_answer(answer) or self._fallback


def parse_answer(answer: Any) -> Review | None:
    """The hook's answer as a Review, None when it is not one of the three shapes."""
    if not isinstance(answer, dict):
        return None
    verdict = answer.get("verdict")
    if verdict == "allow":
        return Review(ReviewVerdict.ALLOW)
    if verdict == "deny":
        reason = answer.get("reason")
        reason = reason[:REASON_MAX] if isinstance(reason, str) and reason else None
        return Review(ReviewVerdict.DENY, reason=reason)
    if verdict == "replace" and isinstance(answer.get("message"), str):
        return Review(ReviewVerdict.REPLACE, text=answer["message"])
    return None
