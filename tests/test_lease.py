"""One engine at a time per database (SPEC §8), on both backends: the lease is the backend's own lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from absensi.engine.app.status import health
from absensi.engine.store import Store
from absensi.engine.store.lease import Lease, current_holder

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def test_a_second_process_cannot_take_the_engine_lease_until_the_first_lets_go(db_url: str) -> None:
    first_store, second_store = Store(db_url), Store(db_url)
    first, second = Lease(first_store), Lease(second_store)
    try:
        assert first.acquire(T0)
        assert not second.acquire(T0)
        assert first.keep(T0 + timedelta(seconds=1))
        first.release()
        assert second.acquire(T0 + timedelta(seconds=2))
        assert current_holder(second_store) is not None
    finally:
        first.release()
        second.release()
        first_store.close()
        second_store.close()


def test_status_names_the_engine_and_says_when_it_has_gone_silent(db_url: str) -> None:
    store = Store(db_url)
    lease = Lease(store)
    try:
        assert health(store, T0).problems == ["no engine is handling messages (is `absensi run` running?)"]
        lease.acquire(T0)
        state = health(store, T0 + timedelta(seconds=3))
        assert state.engine == lease.holder and state.engine_alive and state.problems == []
        assert not health(store, T0 + timedelta(minutes=1)).engine_alive
    finally:
        lease.release()
        store.close()


def test_a_clean_stop_shows_at_once_and_the_next_engine_clears_it(db_url: str) -> None:
    store, other_store = Store(db_url), Store(db_url)
    first, second = Lease(store), Lease(other_store)
    try:
        assert first.acquire(T0)
        first.release()  # `absensi run` stopped by SIGTERM: its engine thread lets the lease go
        state = health(store, T0 + timedelta(seconds=1))  # a second later, long before a minute of silence
        assert not state.engine_alive and state.engine == first.holder and state.engine_stopped_at is not None
        assert state.problems == ["no engine is handling messages (is `absensi run` running?)"]
        assert second.acquire(T0 + timedelta(seconds=2))
        state = health(store, T0 + timedelta(seconds=3))
        assert state.engine_alive and state.engine_stopped_at is None and state.problems == []
    finally:
        first.release()
        second.release()
        store.close()
        other_store.close()
