"""The parts client/connection.py was split into, on their own: the reconnect policy and the 121-123 alternatives."""

from __future__ import annotations

import itertools

import pytest

from xentara_ws.client.reconnect import ReconnectPolicy
from xentara_ws.protocol.alternatives import alternative, alternative_of
from xentara_ws.protocol.codec import decode, encode


def test_the_back_off_doubles_up_to_its_bound_and_gives_up_after_the_attempts():
    assert list(ReconnectPolicy(0.5, 3.0, 5).delays()) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert list(ReconnectPolicy(0.1, 10.0, 0).delays()) == []


def test_without_a_bound_on_attempts_the_back_off_never_gives_up():
    delays = list(itertools.islice(ReconnectPolicy(1.0, 4.0, None).delays(), 1000))
    assert len(delays) == 1000 and delays[-1] == 4.0


@pytest.mark.parametrize("index", [0, 1, 2])
def test_an_alternative_survives_the_wire(index):
    assert encode(alternative(index, {0: "x"}))[:2] == bytes((0xD8, 121 + index))
    assert alternative_of(decode(encode(alternative(index, {0: "x"})))) == (index, {0: "x"})


def test_what_is_not_an_alternative_is_returned_as_it_is():
    assert alternative_of({0: 1}) == (None, {0: 1})
    with pytest.raises(ValueError, match="alternatives 0, 1 and 2"):
        alternative(3, None)
