from helpers import NOW, SECRET, Clock, call, event, signed

from payments_webhooks.app import MAX_BODY, Config, create_app
from payments_webhooks.ratelimit import RateLimiter


def make_app(**kwargs):
    return create_app(Config(webhook_secret=SECRET), clock=Clock(NOW), **kwargs)


def test_healthz():
    assert call(make_app(), "GET", "/healthz")[::2] == (200, {"status": "ok"})


def test_webhook_then_lookup():
    app = make_app()
    body = event()
    status, _, payload = call(app, "POST", "/webhooks", body, HTTP_PAYMENTS_SIGNATURE=signed(body))
    assert (status, payload) == (200, {"status": "processed"})
    status, headers, payload = call(app, "GET", "/payments/pi_1")
    assert status == 200 and payload["status"] == "succeeded"
    assert headers["Content-Type"] == "application/json"


def test_webhook_requires_post_and_a_small_body():
    app = make_app()
    assert call(app, "GET", "/webhooks")[0] == 405
    status = call(app, "POST", "/webhooks", b"", CONTENT_LENGTH=str(MAX_BODY + 1))[0]
    assert status == 413


def test_lookup_is_rate_limited_per_client():
    app = make_app(limiter=RateLimiter(2, 0.001, clock=Clock(0)))
    codes = [call(app, "GET", "/payments/pi_x")[0] for _ in range(3)]
    assert codes == [404, 404, 429]
    assert call(app, "GET", "/payments/pi_x", REMOTE_ADDR="198.51.100.2")[0] == 404


def test_webhooks_do_not_use_up_the_lookup_limit():
    app = make_app(limiter=RateLimiter(2, 0.001, clock=Clock(0)))
    for n in range(3):
        body = event(f"evt_{n}")
        assert call(app, "POST", "/webhooks", body, HTTP_PAYMENTS_SIGNATURE=signed(body))[0] == 200
    assert call(app, "GET", "/payments/pi_1")[0] == 200


def test_unknown_path():
    assert call(make_app(), "GET", "/nope")[0] == 404


def test_config_from_env():
    config = Config.from_env({"PAYMENTS_WEBHOOK_SECRET": "s", "RATE_LIMIT_BURST": "5"})
    assert (config.webhook_secret, config.rate_capacity, config.db_path) == ("s", 5.0, ":memory:")
