import pytest
from helpers import Clock

from payments_webhooks.ratelimit import RateLimiter, TokenBucket


def test_bucket_allows_a_burst_then_refills():
    clock = Clock(0)
    bucket = TokenBucket(3, 1.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.take()
    assert not bucket.take()


def test_bucket_never_exceeds_capacity():
    clock = Clock(0)
    bucket = TokenBucket(2, 5.0, clock=clock)
    clock.advance(100)
    assert [bucket.take() for _ in range(3)] == [True, True, False]


def test_bucket_rejects_bad_parameters():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_limiter_keeps_one_bucket_per_key():
    limiter = RateLimiter(1, 0.5, clock=Clock(0))
    assert limiter.allow("10.0.0.1")
    assert not limiter.allow("10.0.0.1")
    assert limiter.allow("10.0.0.2")
