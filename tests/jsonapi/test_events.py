"""The per-session event queue and the long poll's bounds (§8.5, §9.21)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.clocks import FakeClock
from support.jsonapi import open_api, post, session

from xentara_ws.jsonapi.actions import MAX_WAITING_POLLS
from xentara_ws.jsonapi.events import EventQueue
from xentara_ws.model.tree import Model


def event(subscription: str, element: str, value: int) -> dict:
    return {
        "event": "dataChange",
        "subscriptionId": subscription,
        "element": element,
        "uuid": element,
        "values": {"value": value},
    }


def test_the_queue_keeps_queue_size_events_per_element_and_counts_the_rest() -> None:
    queue = EventQueue()
    queue.queue_sizes["s"] = 2
    for value in range(5):
        queue.put(event("s", "a", value))
    queue.put(event("s", "b", 9))
    taken, dropped = queue.take(10)
    assert [e["values"]["value"] for e in taken] == [3, 4, 9]
    assert dropped == 3
    assert queue.take(10) == ([], 0)  # the drops are reported once


def test_the_whole_queue_is_bounded_oldest_first() -> None:
    queue = EventQueue(limit=3)
    queue.queue_sizes["s"] = 1000
    for value in range(5):
        queue.put(event("s", f"e{value}", value))
    assert len(queue) == 3
    taken, dropped = queue.take(10)
    assert [e["values"]["value"] for e in taken] == [2, 3, 4]
    assert dropped == 2


def test_take_keeps_order_across_elements_and_leaves_the_rest() -> None:
    queue = EventQueue()
    queue.queue_sizes.update({"s": 10, "t": 10})
    for value, (subscription, element) in enumerate([("s", "a"), ("t", "b"), ("s", "b"), ("s", "a"), ("t", "a")]):
        queue.put(event(subscription, element, value))
    first, _ = queue.take(2, "s")
    assert [e["values"]["value"] for e in first] == [0, 2]
    rest, _ = queue.take(10)
    assert [e["values"]["value"] for e in rest] == [1, 3, 4]
    queue.put(event("s", "a", 7))
    queue.forget("s")
    assert len(queue) == 0


async def test_waiting_get_events_calls_are_bounded(model: Model) -> None:
    api = open_api(model, FakeClock())
    token = await session(api)
    await post(
        api,
        {
            "action": "subscribe",
            "authToken": token,
            "params": {"elements": [{"element": "Group 1.Counter", "attributes": ["value"]}]},
        },
    )
    await post(api, {"action": "getEvents", "authToken": token})
    request = {"action": "getEvents", "authToken": token, "params": {"waitMilliseconds": 30000}}
    polls = [asyncio.ensure_future(post(api, request)) for _ in range(MAX_WAITING_POLLS)]
    await asyncio.sleep(0.05)
    refused = await post(api, request)
    assert refused["errorCode"] == -32600 and "getEvents" in refused["errorMessage"]
    model.lookup("Group 1.Counter").publish(1)
    done, waiting = await asyncio.wait(polls, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1  # one event: one poll answers, the others keep waiting
    assert [e["values"]["value"] for e in next(iter(done)).result()["result"]["events"]] == [1]
    for poll in waiting:
        poll.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    again = await post(api, {**request, "params": {"waitMilliseconds": 0}})
    assert again["errorCode"] == 0  # the cancelled polls no longer count


@pytest.mark.parametrize("max_events", [0, 10_001, -1, 1.5])
async def test_max_events_is_bounded(model: Model, max_events) -> None:
    api = open_api(model, FakeClock())
    token = await session(api)
    reply = await post(api, {"action": "getEvents", "authToken": token, "params": {"maxEvents": max_events}})
    assert reply["errorCode"] == -32602 and "maxEvents" in reply["errorMessage"]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from("st"), st.sampled_from("abc")),
        st.tuples(st.just("take"), st.integers(1, 4), st.sampled_from(["s", "t", None])),
    ),
    max_size=60,
)


@given(operations, st.integers(1, 3), st.integers(1, 8))
def test_the_queue_behaves_like_a_plain_list(ops, queue_size: int, limit: int) -> None:
    queue = EventQueue(limit=limit)
    queue.queue_sizes.update({"s": queue_size, "t": queue_size})
    model: list[tuple[str, str, int]] = []
    dropped = 0
    for number, op in enumerate(ops):
        if op[0] == "put":
            _, subscription, element = op
            queue.put(event(subscription, element, number))
            same = [m for m in model if m[:2] == (subscription, element)]
            if len(same) >= queue_size:
                model.remove(same[0])
                dropped += 1
            if len(model) >= limit:
                model.pop(0)
                dropped += 1
            model.append((subscription, element, number))
        else:
            _, count, subscription = op
            wanted = [m for m in model if subscription is None or m[0] == subscription][:count]
            taken, reported = queue.take(count, subscription)
            assert [e["values"]["value"] for e in taken] == [m[2] for m in wanted]
            assert reported == dropped
            dropped = 0
            for m in wanted:
                model.remove(m)
        assert len(queue) == len(model)
