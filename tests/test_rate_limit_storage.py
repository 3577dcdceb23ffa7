"""The default in-process rate-limit storage: counts and expires like limits' own, without
starting a timer thread per request (the cost benchmarks/api.py profiles showed)."""

from __future__ import annotations

import threading
import time

from service.web.rate_limits import InlineSweepMemoryStorage, limiter


def test_counts_expire_and_idle_keys_are_swept_without_threads():
    storage = InlineSweepMemoryStorage("srs-memory://")
    threads = threading.active_count()
    assert [storage.incr("k", expiry=0.2) for _ in range(3)] == [1, 2, 3]
    for _ in range(200):
        storage.incr("busy", expiry=60)
    assert threading.active_count() == threads
    storage.incr("idle", expiry=0.05)
    time.sleep(0.25)
    assert storage.get("k") == 0 and storage.incr("k", expiry=0.2) == 1
    storage._next_sweep = 0.0  # the next write sweeps
    storage.incr("busy", expiry=60)
    assert "idle" not in storage.storage and storage.get("busy") == 201


def test_the_app_uses_it_by_default(app):
    with app.app_context():
        assert isinstance(limiter.storage, InlineSweepMemoryStorage)
