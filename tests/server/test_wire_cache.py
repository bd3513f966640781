"""The server's cache of encoded element values: bounded per element and overall, never stale."""

from __future__ import annotations

from cbor2 import CBORTag
from support.models import REGISTER_UUID, small_model

from xentara_ws.protocol.codec import TimePoint, decode
from xentara_ws.server.wire import CACHE_ENTRIES_PER_ELEMENT, CACHED_KEYS_MAX, WireCache


def test_a_change_of_the_element_is_never_served_from_the_cache() -> None:
    cache = WireCache()
    register = small_model().find(REGISTER_UUID)
    assert register is not None
    register.update(1.0, TimePoint(1))
    assert decode(cache.encoded_values(register, (11,))) == {11: CBORTag(121, 1.0)}
    register.update(2.0, TimePoint(2))
    assert decode(cache.encoded_values(register, (11,))) == {11: CBORTag(121, 2.0)}


def test_the_cache_keeps_at_most_its_bound_of_elements_oldest_first_out() -> None:
    cache = WireCache(max_elements=2)
    elements = list(small_model())
    assert len(elements) >= 3
    for element in elements[:3]:
        cache.encoded_values(element, (0,))
    assert len(cache) == 2
    assert cache.cached_key_lists(elements[0]) == []
    assert cache.cached_key_lists(elements[2]) == [(0,)]


def test_per_element_key_lists_are_bounded_and_long_lists_are_not_kept() -> None:
    cache = WireCache()
    register = small_model().find(REGISTER_UUID)
    assert register is not None
    for i in range(CACHE_ENTRIES_PER_ELEMENT + 5):
        cache.encoded_values(register, (i % 14, i // 14))
    cache.encoded_values(register, (11,) * (CACHED_KEYS_MAX + 1))
    kept = cache.cached_key_lists(register)
    assert len(kept) == CACHE_ENTRIES_PER_ELEMENT
    assert all(len(keys) <= CACHED_KEYS_MAX for keys in kept)
