"""Issue 14 item 4: failed-login accounting per (address, user) with an injectable clock."""

from __future__ import annotations

from support.clocks import FakeClock

from xentara_ws.security.throttle import LoginThrottle


def test_five_failures_lock_out_that_user_at_that_address_only() -> None:
    clock = FakeClock(1000.0)
    throttle = LoginThrottle(clock)
    for _ in range(5):
        assert throttle.retry_after("10.0.0.1", "alice") == 0
        throttle.failed("10.0.0.1", "alice")
    assert throttle.retry_after("10.0.0.1", "alice") == 60
    assert throttle.retry_after("10.0.0.1", "bob") == 0
    assert throttle.retry_after("10.0.0.2", "alice") == 0
    clock.now += 59.5
    assert throttle.retry_after("10.0.0.1", "alice") == 1
    clock.now += 1
    assert throttle.retry_after("10.0.0.1", "alice") == 0


def test_another_users_success_does_not_reset_the_count() -> None:
    throttle = LoginThrottle(FakeClock(1000.0))
    for _ in range(4):
        throttle.failed("10.0.0.1", "alice")
    throttle.succeeded("10.0.0.1", "bob")
    throttle.failed("10.0.0.1", "alice")
    assert throttle.retry_after("10.0.0.1", "alice") > 0


def test_the_users_own_success_resets_its_count() -> None:
    throttle = LoginThrottle(FakeClock(1000.0))
    for _ in range(4):
        throttle.failed("10.0.0.1", "alice")
    throttle.succeeded("10.0.0.1", "alice")
    throttle.failed("10.0.0.1", "alice")
    assert throttle.retry_after("10.0.0.1", "alice") == 0


def test_many_user_names_from_one_address_lock_out_the_address() -> None:
    throttle = LoginThrottle(FakeClock(1000.0), max_failures=5)
    for index in range(20):
        throttle.failed("10.0.0.9", f"user{index}")
    assert throttle.retry_after("10.0.0.9", "someone-else") == 60
    throttle.succeeded("10.0.0.9", "user0")
    assert throttle.retry_after("10.0.0.9", "someone-else") == 60, "no success resets the address"


def test_a_spray_of_addresses_does_not_disturb_new_lockouts() -> None:
    clock = FakeClock(1000.0)
    throttle = LoginThrottle(clock)
    for _ in range(5):
        throttle.failed("10.9.9.9", "alice")
    clock.now += 61  # alice's lock-out is over; her failures are old
    for index in range(25_000):
        throttle.failed(f"10.{index // 65536}.{index // 256 % 256}.{index % 256}", "x")
    assert throttle.retry_after("10.9.9.9", "alice") == 0
    for _ in range(5):
        throttle.failed("10.9.9.8", "bob")
    assert throttle.retry_after("10.9.9.8", "bob") == 60
