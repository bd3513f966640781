"""Value changes between nodes without NATS: encoding, applying, ordering and the echo guard."""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.models import COUNTER_UUID, REGISTER_UUID, small_model

from xentara_ws.cluster import ClusterNode, ClusterOptions
from xentara_ws.cluster.changes import ChangeFormatError, ValueChange, apply, capture
from xentara_ws.cluster.snapshot import decode_page, encode_page
from xentara_ws.model.element import Element
from xentara_ws.protocol import codec
from xentara_ws.protocol.codec import TimePoint
from xentara_ws.protocol.identifiers import Attribute, Quality
from xentara_ws.server.app import XentaraServer

VALUE, QUALITY, CHANGE_TIME, UPDATE_TIME = (
    int(Attribute.VALUE),
    int(Attribute.QUALITY),
    int(Attribute.CHANGE_TIME),
    int(Attribute.UPDATE_TIME),
)


def register_of(model) -> Element:  # type: ignore[no-untyped-def]
    element = model.find(REGISTER_UUID)
    assert element is not None
    return element


@given(
    value=st.floats(allow_nan=False),
    quality=st.sampled_from(list(Quality)),
    ns=st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_a_change_applied_on_another_node_reproduces_value_quality_and_times(value, quality, ns):
    here, there = small_model(), small_model()
    source = register_of(here)
    source.update(value, TimePoint(ns), quality=quality)
    change = capture(source, frozenset((VALUE, QUALITY)), "a", 1)
    target = register_of(there)
    apply(target, ValueChange.decode(change.encode()))
    assert target.value == value and math.copysign(1, target.value) == math.copysign(1, value)
    assert target.quality is quality
    assert target.change_time == TimePoint(ns) and target.update_time == TimePoint(ns)


def test_listeners_hear_the_attributes_the_origin_changed_and_those_that_differed_here():
    here, there = small_model(), small_model()
    source, target = register_of(here), register_of(there)
    heard: list[frozenset[object]] = []
    target.subscribe(lambda element, changed: heard.append(changed))
    source.update(99.0, TimePoint(5))
    apply(target, capture(source, frozenset((VALUE, UPDATE_TIME, CHANGE_TIME)), "a", 1))
    assert heard == [frozenset((VALUE, UPDATE_TIME, CHANGE_TIME))]
    # A snapshot record names nothing; what differs is still told.
    source.update(100.0, TimePoint(6))
    apply(target, capture(source, frozenset(), "a", 2))
    assert heard[-1] == frozenset((VALUE, UPDATE_TIME, CHANGE_TIME))


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff",
        codec.encode([1, 2]),
        codec.encode({0: "a", 1: 1, 2: [], 3: {}}),  # no element
        codec.encode({0: "a", 1: 1, 2: [], 3: {QUALITY: 9}, 4: REGISTER_UUID}),  # no such quality
        codec.encode({0: "a", 1: "soon", 2: [], 3: {}, 4: REGISTER_UUID}),
        codec.encode({0: "a", 1: 1, 2: ["value"], 3: {}, 4: REGISTER_UUID}),
    ],
)
def test_malformed_changes_are_refused(payload):
    with pytest.raises(ChangeFormatError):
        ValueChange.decode(payload)


def node_for(model, name: str = "b") -> ClusterNode:  # type: ignore[no-untyped-def]
    return ClusterNode(XentaraServer(model), ClusterOptions("nats://127.0.0.1:4222", node_name=name))


def change(value: float, stamp: int, origin: str, element: uuid.UUID = REGISTER_UUID) -> ValueChange:
    return ValueChange(element, origin, stamp, frozenset((VALUE,)), {VALUE: value})


def test_the_newer_change_wins_whatever_order_they_arrive_in_and_ties_go_to_the_greater_node_name():
    first, second = node_for(small_model()), node_for(small_model())
    changes = [change(1.0, 10, "a"), change(2.0, 20, "a"), change(3.0, 20, "c"), change(4.0, 15, "z")]
    for item in changes:
        first.receive(item)
    for item in reversed(changes):
        second.receive(item)
    assert register_of(first.server.model).value == register_of(second.server.model).value == 3.0


def test_a_node_ignores_its_own_changes_and_changes_of_unknown_elements():
    node = node_for(small_model(), "b")
    assert not node.receive(change(5.0, 10, "b"))
    assert not node.receive(change(5.0, 10, "a", element=uuid.uuid4()))
    assert register_of(node.server.model).value == 42.5


async def test_a_remote_change_is_applied_without_being_published_again_and_a_local_one_is_published_once():
    model = small_model()
    node = node_for(model)
    node.watch_model()
    assert node.receive(change(8.0, 10, "a"))
    assert node.outbox == []  # no echo: the change came from the cluster
    counter = model.find(COUNTER_UUID)
    assert counter is not None
    counter.write(counter.attribute(VALUE), 9, TimePoint(11))
    assert [(c.element, c.state[VALUE], c.origin) for c in node.outbox] == [(COUNTER_UUID, 9, "b")]


def test_snapshot_pages_carry_every_record_once_in_uuid_order():
    model = small_model()
    records = [capture(element, frozenset(), "a", 1) for element in model]
    after = None
    seen: list[uuid.UUID] = []
    for _ in range(len(records) + 1):
        page, more = decode_page(encode_page(records, after, page_bytes=120))
        seen += [record.element for record in page]
        if not more:
            break
        after = page[-1].element
    assert seen == sorted(element.uuid for element in model)
