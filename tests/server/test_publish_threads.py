"""Element.publish() from threads other than the event loop's (gateway threads)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from cbor2 import CBORTag
from support.models import REGISTER_UUID
from support.raw_client import RawClient

from xentara_ws.protocol.errors import ProtocolError
from xentara_ws.server.app import XentaraServer

VALUES = [float(i) + 0.5 for i in range(1, 21)]


async def _values_seen(client: RawClient, last: float) -> list[float]:
    seen: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while last not in seen:
        remaining = deadline - loop.time()
        assert remaining > 0, seen
        for event in await client.next_events(timeout=remaining):
            value = event[2][2].get(11)
            if isinstance(value, CBORTag) and value.tag == 121:
                seen.append(value.value)
    return seen


async def test_values_published_from_a_thread_reach_a_websocket_subscriber(server: XentaraServer) -> None:
    client = await RawClient.open(server.port)
    try:
        await client.request(6, {0: [{0: REGISTER_UUID, 1: [11]}]})
        await client.next_events()  # the initial event
        register = server.model.find(REGISTER_UUID)
        assert register is not None
        errors: list[BaseException] = []

        def gateway() -> None:
            try:
                for value in VALUES:
                    register.publish(value)
            except BaseException as error:  # reported by the test, not lost in the thread
                errors.append(error)

        thread = threading.Thread(target=gateway)
        thread.start()
        seen = await _values_seen(client, VALUES[-1])
        await asyncio.to_thread(thread.join, 10)
        assert not errors
        # Every published value arrives (events may coalesce, but never out of order).
        assert seen == sorted(seen) and set(seen) <= set(VALUES)
        assert register.value == VALUES[-1]
    finally:
        await client.close()


async def test_a_wrong_typed_value_published_from_a_thread_raises_in_that_thread(server: XentaraServer) -> None:
    register = server.model.find(REGISTER_UUID)
    assert register is not None
    before = register.value
    raised: list[BaseException] = []

    def gateway() -> None:
        try:
            register.publish("not a number")
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=gateway)
    thread.start()
    await asyncio.to_thread(thread.join, 10)
    assert len(raised) == 1 and isinstance(raised[0], ProtocolError)
    await asyncio.sleep(0)  # nothing was handed to the loop: the value stays
    assert register.value == before


def test_publishing_on_a_model_without_a_server_applies_at_once_in_the_caller_thread() -> None:
    from support.models import small_model

    model = small_model()
    register = model.find(REGISTER_UUID)
    assert register is not None
    thread = threading.Thread(target=register.publish, args=(3.25,))
    thread.start()
    thread.join(10)
    assert register.value == 3.25
    with pytest.raises(ProtocolError):
        register.publish("not a number")
