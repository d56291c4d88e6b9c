"""Token-bucket rate limiting, one bucket per client."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`capacity` tokens, refilled continuously at `refill_per_second`."""

    def __init__(
        self,
        capacity: float,
        refill_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or refill_per_second <= 0:
            raise ValueError("capacity and refill rate must be positive")
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._clock = clock
        self.tokens = capacity
        self.updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        self.updated = now

    def take(self, n: float = 1.0) -> bool:
        self._refill()
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False

    def retry_after(self, n: float = 1.0) -> float:
        """Seconds until `n` tokens are available (0 if they are now)."""
        self._refill()
        missing = n - self.tokens
        return max(0.0, missing / self.refill_per_second)


class RateLimiter:
    """A bucket per key (the client address)."""

    def __init__(
        self,
        capacity: float,
        refill_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.refill_per_second, clock=self._clock)
            self._buckets[key] = bucket
        return bucket.take()
