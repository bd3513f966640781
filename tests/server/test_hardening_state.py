"""Issue 14: linear-time unsubscribe and a bounded read cache."""

from __future__ import annotations

import time
import uuid

from support.models import REGISTER_UUID, small_model

from xentara_ws.protocol.codec import encode
from xentara_ws.server.access import OpenAccess
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.state import ServerState
from xentara_ws.server.subscriptions import EventScheduler
from xentara_ws.server.wire import CACHE_ENTRIES_PER_ELEMENT, CACHED_KEYS_MAX, WIRE_CACHE


def _removal_seconds(others: int, entries: int) -> float:
    """Seconds to remove one subscription of `entries` entries of one element, with `others` subscriptions
    of the same size on that element subscribed before it (best of three)."""
    best = float("inf")
    for _ in range(3):
        model = small_model()
        register = model.find(REGISTER_UUID)
        scheduler = EventScheduler(lambda: 0, OpenAccess())
        for _ in range(others):
            scheduler.add(uuid.uuid4(), [(register, (11,))] * entries, None, None)
        last = uuid.uuid4()
        scheduler.add(last, [(register, (11,))] * entries, None, None)
        start = time.perf_counter()
        assert scheduler.remove(last)
        best = min(best, time.perf_counter() - start)
        scheduler.close()
    return best


def test_removing_a_subscription_does_not_depend_on_the_other_subscriptions_of_its_element() -> None:
    # Not a speed goal but a complexity check: removal is O(entries of that subscription). Quadratic
    # bookkeeping made the last of 30 subscriptions cost ~30x (in fact far more) the only one.
    alone = _removal_seconds(0, 4000)
    crowded = _removal_seconds(29, 4000)
    assert crowded < 10 * alone + 0.05, (alone, crowded)


def test_a_subscription_removed_from_the_middle_leaves_the_others_notified() -> None:
    model = small_model()
    register = model.find(REGISTER_UUID)
    scheduler = EventScheduler(lambda: 0, OpenAccess())
    ids = [uuid.uuid4() for _ in range(3)]
    for subscription_id in ids:
        scheduler.add(subscription_id, [(register, (11,))], None, None)
    scheduler.collect()
    assert scheduler.remove(ids[1])
    from xentara_ws.protocol.codec import TimePoint, decode

    register.update(7.0, TimePoint(1))
    events = [packet for message in scheduler.collect() for packet in decode(message)]
    assert sorted(e[2][0] for e in events) == sorted([ids[0], ids[2]])


def test_reads_with_client_chosen_attribute_lists_leave_a_bounded_cache() -> None:
    state = ServerState(model=small_model())
    dispatcher = Dispatcher(state)
    session = ConnectionState()
    assert dispatcher.handle_message(session, [[0, 1, 14, {0: 1, 1: 1}]]) == [[1, 1, {0: 1}]]
    register = state.model.find(REGISTER_UUID)
    huge = [11] * 5000
    reply = dispatcher.handle_bytes(session, encode([[0, 2, 4, {0: REGISTER_UUID, 1: huge}]]))
    assert reply[:2] == b"\x81\x83"
    combinations = [[i % 14, (i // 14) % 14] for i in range(100)]
    for index, keys in enumerate(combinations):
        dispatcher.handle_bytes(session, encode([[0, index, 4, {0: REGISTER_UUID, 1: keys}]]))
    cached = WIRE_CACHE.cached_key_lists(register)
    assert 0 < len(cached) <= CACHE_ENTRIES_PER_ELEMENT
    assert all(len(keys) <= CACHED_KEYS_MAX for keys in cached)
    # the latest combination is still served from the cache
    assert cached[-1] == tuple(combinations[-1])
