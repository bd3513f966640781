"""Console logins are leased: idle and old sessions end, and the store is bounded."""

from __future__ import annotations

import pytest

from xentara_ws.console.sessions import MemoryConsoleSessions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_new_session_is_found_by_its_cookie_and_only_by_it() -> None:
    store = MemoryConsoleSessions(clock=Clock())
    cookie = store.open("principal", "demo")
    found = store.find(cookie)
    assert found is not None and found.principal == "principal" and found.user == "demo"
    assert store.find(cookie + "x") is None
    assert store.find("") is None


def test_cookies_are_unguessable_and_distinct() -> None:
    store = MemoryConsoleSessions(clock=Clock())
    cookies = {store.open("p", "u") for _ in range(50)}
    assert len(cookies) == 50
    assert all(len(cookie) >= 40 for cookie in cookies)


def test_an_idle_session_expires_and_use_renews_it() -> None:
    clock = Clock()
    store = MemoryConsoleSessions(idle_timeout=60, max_age=3600, clock=clock)
    cookie = store.open("p", "u")
    clock.now += 59
    assert store.find(cookie) is not None  # renews the lease
    clock.now += 59
    assert store.find(cookie) is not None
    clock.now += 60
    assert store.find(cookie) is None
    assert len(store) == 0


def test_a_session_ends_at_its_maximum_age_even_when_used() -> None:
    clock = Clock()
    store = MemoryConsoleSessions(idle_timeout=60, max_age=100, clock=clock)
    cookie = store.open("p", "u")
    for _ in range(3):
        clock.now += 30
        assert store.find(cookie) is not None
    clock.now += 10
    assert store.find(cookie) is None


def test_logout_ends_the_session() -> None:
    store = MemoryConsoleSessions(clock=Clock())
    cookie = store.open("p", "u")
    assert store.close(cookie) is True
    assert store.find(cookie) is None
    assert store.close(cookie) is False


def test_the_store_is_bounded_and_drops_the_least_recently_used() -> None:
    store = MemoryConsoleSessions(max_sessions=3, clock=Clock())
    first, second, third = (store.open("p", str(n)) for n in range(3))
    assert store.find(first) is not None  # first is now the most recently used
    fourth = store.open("p", "3")
    assert len(store) == 3
    assert store.find(second) is None
    assert all(store.find(cookie) is not None for cookie in (first, third, fourth))


def test_expired_sessions_are_swept_when_someone_logs_in() -> None:
    clock = Clock()
    store = MemoryConsoleSessions(idle_timeout=10, clock=clock)
    for n in range(5):
        store.open("p", str(n))
    clock.now += 11
    store.open("p", "new")
    assert len(store) == 1


@pytest.mark.parametrize("option", ["idle_timeout", "max_age", "max_sessions"])
def test_limits_must_be_positive(option: str) -> None:
    with pytest.raises(ValueError):
        MemoryConsoleSessions(**{option: 0})  # type: ignore[arg-type]
