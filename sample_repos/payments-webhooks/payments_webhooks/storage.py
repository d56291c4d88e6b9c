"""SQLite storage: payments and the ids of webhook events already processed."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    processed_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Payment:
    id: str
    amount: int
    """In the currency's minor unit (cents)."""
    currency: str
    status: str
    updated_at: float


class Storage:
    """One SQLite connection shared by the request threads, guarded by a lock."""

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], float] = time.time):
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._clock = clock
        with self._lock:
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- processed events -------------------------------------------------------------

    def has_processed(self, event_id: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM processed_events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return row is not None

    def mark_processed(self, event_id: str, event_type: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO processed_events VALUES (?, ?, ?)",
                (event_id, event_type, self._clock()),
            )

    def processed_count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM processed_events").fetchone()[0]

    # -- payments ---------------------------------------------------------------------

    def upsert_payment(self, payment_id: str, amount: int, currency: str, status: str) -> Payment:
        now = self._clock()
        with self._lock:
            self._conn.execute(
                """
                INSERT INTO payments (id, amount, currency, status, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    amount = excluded.amount,
                    currency = excluded.currency,
                    status = excluded.status,
                    updated_at = excluded.updated_at
                """,
                (payment_id, amount, currency, status, now),
            )
        return Payment(payment_id, amount, currency, status, now)

    def get_payment(self, payment_id: str) -> Payment | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, amount, currency, status, updated_at FROM payments WHERE id = ?",
                (payment_id,),
            ).fetchone()
        return Payment(**dict(row)) if row else None
