from payments_webhooks.storage import Storage


def test_payment_upsert_and_get(tmp_path):
    storage = Storage(str(tmp_path / "p.db"), clock=lambda: 100.0)
    storage.upsert_payment("pi_1", 500, "eur", "succeeded")
    storage.upsert_payment("pi_1", 500, "eur", "refunded")
    payment = storage.get_payment("pi_1")
    assert payment is not None
    assert (payment.status, payment.amount, payment.updated_at) == ("refunded", 500, 100.0)
    assert storage.get_payment("pi_404") is None


def test_processed_events_survive_reopen(tmp_path):
    path = str(tmp_path / "p.db")
    storage = Storage(path)
    storage.mark_processed("evt_1", "payment_intent.succeeded")
    storage.close()
    reopened = Storage(path)
    assert reopened.has_processed("evt_1")
    assert not reopened.has_processed("evt_2")
    assert reopened.processed_count() == 1
