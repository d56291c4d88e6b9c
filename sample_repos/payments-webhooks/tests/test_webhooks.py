import pytest

from helpers import NOW, SECRET, Clock, event, signed

from payments_webhooks.storage import Storage
from payments_webhooks.webhooks import WebhookHandler


def make_handler(**kwargs):
    storage = Storage()
    return storage, WebhookHandler(storage, SECRET, clock=Clock(NOW), **kwargs)


def test_succeeded_event_records_the_payment():
    fulfilled = []
    storage, handler = make_handler(on_succeeded=fulfilled.append)
    body = event()
    assert handler.handle(body, signed(body)) == (200, {"status": "processed"})
    payment = storage.get_payment("pi_1")
    assert payment is not None and payment.status == "succeeded"
    assert [p.id for p in fulfilled] == ["pi_1"]


def test_redelivered_event_is_processed_once():
    fulfilled = []
    storage, handler = make_handler(on_succeeded=fulfilled.append)
    body = event()
    handler.handle(body, signed(body))
    assert handler.handle(body, signed(body)) == (200, {"status": "duplicate"})
    assert len(fulfilled) == 1
    assert storage.processed_count() == 1


def test_event_whose_processing_failed_is_applied_on_redelivery():
    attempts = []

    def fulfil_once_the_service_is_back(payment):
        attempts.append(payment.id)
        if len(attempts) == 1:
            raise ConnectionError("fulfilment service down")

    storage, handler = make_handler(on_succeeded=fulfil_once_the_service_is_back)
    body = event()
    with pytest.raises(ConnectionError):
        handler.handle(body, signed(body))
    assert handler.handle(body, signed(body)) == (200, {"status": "processed"}), (
        "the event was lost: its processing failed, and its redelivery was answered duplicate"
    )
    assert attempts == ["pi_1", "pi_1"]


def test_refund_after_success_updates_status():
    storage, handler = make_handler()
    for event_id, kind in [("evt_1", "payment_intent.succeeded"), ("evt_2", "charge.refunded")]:
        body = event(event_id, kind)
        assert handler.handle(body, signed(body))[0] == 200
    assert storage.get_payment("pi_1").status == "refunded"


def test_unknown_event_types_are_acknowledged_and_ignored():
    storage, handler = make_handler()
    body = event(kind="customer.created")
    assert handler.handle(body, signed(body)) == (200, {"status": "processed"})
    assert storage.get_payment("pi_1") is None


def test_bad_signature_is_rejected_before_parsing():
    storage, handler = make_handler()
    status, payload = handler.handle(b"not json", signed(b"other"))
    assert status == 400 and "signature" in payload["error"]


def test_malformed_event_is_rejected():
    _, handler = make_handler()
    body = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi"}}}'
    status, payload = handler.handle(body, signed(body))
    assert status == 400 and "amount" in payload["error"]
