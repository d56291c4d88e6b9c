"""The webhook handler: verify, de-duplicate, apply the event to our payments."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from .signing import SignatureError, verify
from .storage import Payment, Storage

log = logging.getLogger(__name__)

STATUS_BY_EVENT = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "charge.refunded": "refunded",
}


class WebhookHandler:
    """Handle one delivery. The provider redelivers until it gets a 2xx, so the same
    event id can arrive several times; each event must take effect once."""

    def __init__(
        self,
        storage: Storage,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        on_succeeded: Callable[[Payment], None] | None = None,
    ) -> None:
        self.storage = storage
        self.secret = secret
        self._clock = clock
        self._on_succeeded = on_succeeded

    def handle(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        try:
            verify(signature, body, self.secret, now=self._clock())
        except SignatureError as exc:
            return 400, {"error": f"bad signature: {exc}"}
        try:
            event = parse_event(body)
        except ValueError as exc:
            return 400, {"error": str(exc)}

        event_id = event["id"]
        if self.storage.has_processed(event_id):
            log.info("duplicate delivery of %s", event_id)
            return 200, {"status": "duplicate"}
        self._apply(event)
        self.storage.mark_processed(event_id, event["type"])
        return 200, {"status": "processed"}

    def _apply(self, event: dict[str, Any]) -> None:
        status = STATUS_BY_EVENT.get(event["type"])
        if status is None:
            log.info("ignoring event type %s", event["type"])
            return
        obj = event["data"]["object"]
        payment = self.storage.upsert_payment(
            obj["id"], int(obj["amount"]), str(obj["currency"]), status
        )
        if status == "succeeded" and self._on_succeeded is not None:
            self._on_succeeded(payment)


def parse_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("body is not JSON") from None
    if not isinstance(event, dict):
        raise ValueError("event must be a JSON object")
    for key in ("id", "type", "data"):
        if key not in event:
            raise ValueError(f"event lacks {key!r}")
    obj = event["data"].get("object") if isinstance(event["data"], dict) else None
    if not isinstance(obj, dict) or "id" not in obj:
        raise ValueError("event lacks data.object.id")
    if event["type"] in STATUS_BY_EVENT and not {"amount", "currency"} <= obj.keys():
        raise ValueError("payment object lacks amount/currency")
    return event
