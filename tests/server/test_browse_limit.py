"""A browse whose reply would exceed the message-size limit answers -32602 telling to browse with a depth."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.raw_client import RawClient

from xentara_ws.model.loader import load_model_data
from xentara_ws.model.tree import Model
from xentara_ws.protocol.codec import decode, encode
from xentara_ws.protocol.identifiers import NIL_UUID
from xentara_ws.server.app import XentaraServer
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState

NAMESPACE = uuid.UUID("6f1c9a52-1b8e-4f4e-9c55-2b7f1f0c9a02")
REPLY_OVERHEAD = 32  # what the server keeps free for the reply packet around the entries
INVALID_PARAMETER = -32602


def wide_model(groups: int, per_group: int, name: str = "Register number {}") -> Model:
    children = []
    for g in range(groups):
        members = [
            {
                "@Skill.SignalFlow.Register": {
                    "name": name.format(r),
                    "UUID": str(uuid.uuid5(NAMESPACE, f"{g}/{r}")),
                    "defaultValue": ["int64", r],
                }
            }
            for r in range(per_group)
        ]
        children.append({"@Group": {"name": f"G{g}", "UUID": str(uuid.uuid5(NAMESPACE, str(g))), "children": members}})
    return load_model_data({"children": children})


def entries_size(model: Model, depth: int | None = None) -> int:
    """Bytes of the browse entries of the whole tree, without the array head around them."""
    entries = [{0: e.primary_key, 1: e.uuid, 2: int(e.category)} for e in model.root.descendants(depth)]
    whole = encode(entries)
    return len(whole) - len(encode([None] * len(entries))) + len(entries)


def browse(model: Model, limit: int, params: dict[int, Any]) -> Any:
    dispatcher = Dispatcher(ServerState(model=model, limits=Limits(max_message_size=limit)))
    session = ConnectionState()
    dispatcher.handle_bytes(session, encode([[0, 1, 14, {0: 1, 1: 1}]]))
    return decode(dispatcher.handle_bytes(session, encode([[0, 2, 1, params]])))[0]


async def test_a_whole_tree_browse_over_the_limit_is_refused_with_advice_through_a_real_socket() -> None:
    model = wide_model(10, 50)
    server = XentaraServer(model, limits=Limits(max_message_size=4000))
    await server.start("127.0.0.1", 0)
    try:
        client = await RawClient.open(server.port)
        other = await RawClient.open(server.port)
        reply = await client.request(1, {0: NIL_UUID})
        assert reply[0] == 2 and reply[2][0] == INVALID_PARAMETER
        message = reply[2][1]
        assert "message-size limit of 4000 bytes" in message and "browse with a depth" in message
        top = await client.request(1, {0: NIL_UUID, 1: 1})
        assert [entry[0] for entry in top[2]] == [f"G{g}" for g in range(10)]
        group = await other.request(1, {0: top[2][3][1], 1: 1})
        assert len(group[2]) == 50 and group[2][0][0] == "G3.Register number 0"
        await client.close()
        await other.close()
    finally:
        await server.close()


def test_a_filtered_browse_counts_only_what_it_answers() -> None:
    model = wide_model(10, 50)
    assert browse(model, 4000, {0: NIL_UUID})[0] == 2
    groups = browse(model, 4000, {0: NIL_UUID, 2: [1]})  # groups only: small enough
    assert groups[0] == 1 and len(groups[2]) == 10


@given(
    st.sampled_from(["R{}", "Register number {} with a name longer than twenty-four bytes", "Zähler {}", "{}" * 1]),
    st.integers(min_value=1, max_value=4),
)
def test_the_size_is_counted_exactly(name: str, groups: int) -> None:
    model = wide_model(groups, 7, name)
    needed = entries_size(model) + REPLY_OVERHEAD
    answered = browse(model, needed, {0: NIL_UUID})
    assert answered[0] == 1 and len(answered[2]) == len(model)
    refused = browse(model, needed - 1, {0: NIL_UUID})
    assert refused[0] == 2 and refused[2][0] == INVALID_PARAMETER


def test_a_name_of_more_than_255_bytes_is_counted_with_its_longer_head() -> None:
    model = wide_model(1, 2, "N{}" + "x" * 300)
    needed = entries_size(model) + REPLY_OVERHEAD
    assert browse(model, needed, {0: NIL_UUID})[0] == 1
    assert browse(model, needed - 1, {0: NIL_UUID})[0] == 2


@pytest.mark.parametrize("limit", [88, 1000])
def test_a_reply_within_the_limit_is_the_whole_tree_in_order(limit: int) -> None:
    model = wide_model(1, 1, "A")
    reply = browse(model, limit, {0: NIL_UUID})
    assert [entry[0] for entry in reply[2]] == ["G0", "G0.A"]
