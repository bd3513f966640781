"""Console logins are leased: idle and old sessions end, and the store is bounded.

Every rule holds for both stores: the in-memory one and the one backed by the server-wide
sub-session registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.clocks import FakeClock

from xentara_ws.console.sessions import (
    CONSOLE_KIND,
    ConsoleSessionsFull,
    MemoryConsoleSessions,
    RegistryConsoleSessions,
)
from xentara_ws.sessions.registry import SubSessionRegistry


class Principal:
    def __init__(self, name: str) -> None:
        self.name = name
        self.kind = "user"


Factory = Callable[..., Any]


@pytest.fixture(params=["memory", "registry"])
def make(request: pytest.FixtureRequest) -> tuple[Factory, FakeClock]:
    clock = FakeClock(1_700_000_000.0)
    if request.param == "memory":
        return (lambda **options: MemoryConsoleSessions(clock=clock, **options)), clock

    def registry_store(**options: Any) -> RegistryConsoleSessions:
        return RegistryConsoleSessions(SubSessionRegistry(clock=clock), **options)

    return registry_store, clock


def test_a_new_session_is_found_by_its_cookie_and_only_by_it(make: tuple[Factory, FakeClock]) -> None:
    store = make[0]()
    principal = Principal("demo")
    cookie = store.open(principal, "demo")
    found = store.find(cookie)
    assert found is not None and found.principal is principal and found.user == "demo"
    assert store.find(cookie + "x") is None
    assert store.find("") is None


def test_cookies_are_unguessable_and_distinct(make: tuple[Factory, FakeClock]) -> None:
    store = make[0]()
    cookies = {store.open(Principal("u"), "u") for _ in range(50)}
    assert len(cookies) == 50
    assert all(len(cookie) >= 40 for cookie in cookies)


def test_an_idle_session_expires_and_use_renews_it(make: tuple[Factory, FakeClock]) -> None:
    factory, clock = make
    store = factory(idle_timeout=60, max_age=3600)
    cookie = store.open(Principal("u"), "u")
    clock.now += 59
    assert store.find(cookie) is not None  # renews the lease
    clock.now += 59
    assert store.find(cookie) is not None
    clock.now += 61
    assert store.find(cookie) is None
    assert len(store) == 0


def test_a_session_ends_at_its_maximum_age_even_when_used(make: tuple[Factory, FakeClock]) -> None:
    factory, clock = make
    store = factory(idle_timeout=60, max_age=100)
    cookie = store.open(Principal("u"), "u")
    for _ in range(3):
        clock.now += 30
        assert store.find(cookie) is not None
    clock.now += 10
    assert store.find(cookie) is None


def test_logout_ends_the_session(make: tuple[Factory, FakeClock]) -> None:
    store = make[0]()
    cookie = store.open(Principal("u"), "u")
    assert store.close(cookie) is True
    assert store.find(cookie) is None
    assert store.close(cookie) is False


def test_the_store_is_bounded_and_drops_the_least_recently_used(make: tuple[Factory, FakeClock]) -> None:
    factory, clock = make
    store = factory(max_sessions=3)
    first, second, third = (store.open(Principal(str(n)), str(n)) for n in range(3))
    clock.now += 1
    assert store.find(first) is not None  # first is now the most recently used
    fourth = store.open(Principal("3"), "3")
    assert len(store) == 3
    assert store.find(second) is None
    assert all(store.find(cookie) is not None for cookie in (first, third, fourth))


@pytest.mark.parametrize("option", ["idle_timeout", "max_age", "max_sessions"])
def test_limits_must_be_positive(make: tuple[Factory, FakeClock], option: str) -> None:
    with pytest.raises(ValueError):
        make[0](**{option: 0})


def test_expired_memory_sessions_are_swept_when_someone_logs_in() -> None:
    clock = FakeClock(1_700_000_000.0)
    store = MemoryConsoleSessions(idle_timeout=10, clock=clock)
    for n in range(5):
        store.open("p", str(n))
    clock.now += 11
    store.open("p", "new")
    assert len(store) == 1


def test_a_console_login_is_a_leased_sub_session_of_the_registry() -> None:
    clock = FakeClock(1_700_000_000.0)
    registry = SubSessionRegistry(clock=clock)
    store = RegistryConsoleSessions(registry, idle_timeout=60)
    cookie = store.open(Principal("demo"), "demo")
    (entry,) = list(registry)
    assert entry.kind == CONSOLE_KIND
    assert entry.owner == entry.creator == "user:demo"
    assert entry.keep_alive_s == 40 and entry.expiry_s == 0
    assert not entry.permanent and not entry.connected
    assert registry.expires_at(entry) == clock.now + 60
    clock.now += 61
    registry.tick()  # the registry's own timer removes it when its lease runs out
    assert len(registry) == 0
    assert store.find(cookie) is None


def test_deleting_or_banning_the_sub_session_logs_the_browser_out() -> None:
    registry = SubSessionRegistry(clock=FakeClock(1_700_000_000.0))
    store = RegistryConsoleSessions(registry)
    deleted, banned = store.open(Principal("a"), "a"), store.open(Principal("b"), "b")
    entries = {entry.owner: entry for entry in registry}
    registry.delete(entries["user:a"])
    registry.alter(entries["user:b"], {"status": "banned"})
    assert store.find(deleted) is None
    assert store.find(banned) is None


def test_a_full_registry_refuses_new_console_logins() -> None:
    registry = SubSessionRegistry(clock=FakeClock(1_700_000_000.0), max_total=2)
    store = RegistryConsoleSessions(registry)
    store.open(Principal("a"), "a")
    store.open(Principal("b"), "b")
    with pytest.raises(ConsoleSessionsFull):
        store.open(Principal("c"), "c")


def test_a_login_ends_no_later_than_its_credentials_allow(make: tuple[Factory, FakeClock]) -> None:
    factory, clock = make
    store = factory(idle_timeout=600, max_age=3600)
    cookie = store.open(Principal("u"), "u", 100.0)
    clock.now += 99
    found = store.find(cookie)
    assert found is not None and found.ends == found.created + 100
    clock.now += 2
    assert store.find(cookie) is None
    longer = store.open(Principal("u"), "u", 10**9)  # never beyond the maximum age
    for _ in range(7):
        clock.now += 514  # used now and then: the idle timeout does not end it
        assert store.find(longer) is not None
    clock.now += 3600 - 7 * 514
    assert store.find(longer) is None
