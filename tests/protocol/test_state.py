"""The per-connection state machine: awaiting hello -> ready -> closed, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentara_ws.protocol.errors import ErrorCode
from xentara_ws.protocol.state import (
    AWAITING_HELLO,
    CLOSED,
    CONNECTION_CLOSED,
    HELLO_RECEIVED,
    READY,
    ConnectionEvent,
    LocalProtocolError,
    ProtocolState,
    missing_hello,
)


def test_a_connection_starts_awaiting_hello_and_becomes_ready_then_closed() -> None:
    state = ProtocolState()
    assert state.state is AWAITING_HELLO
    assert state.process_event(HELLO_RECEIVED) is READY
    assert state.process_event(CONNECTION_CLOSED) is CLOSED
    assert state.process_event(CONNECTION_CLOSED) is CLOSED  # closing twice is harmless


def test_a_connection_may_close_before_its_hello() -> None:
    state = ProtocolState()
    assert state.process_event(CONNECTION_CLOSED) is CLOSED


@pytest.mark.parametrize("start", [READY, CLOSED])
def test_a_second_hello_is_not_a_transition(start: object) -> None:
    state = ProtocolState(start)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="hello received"):
        state.process_event(HELLO_RECEIVED)
    assert state.state is start


def test_only_client_hello_may_run_before_the_hello_and_nothing_after_closing() -> None:
    state = ProtocolState()
    assert state.may_run(is_hello=True)
    assert not state.may_run(is_hello=False)
    state.process_event(HELLO_RECEIVED)
    assert state.may_run(is_hello=False)
    state.process_event(CONNECTION_CLOSED)
    assert not state.may_run(is_hello=False)
    assert not state.may_run(is_hello=True)


def test_commands_before_hello_get_missing_client_hello() -> None:
    error = missing_hello()
    assert error.code is ErrorCode.MISSING_CLIENT_HELLO
    assert int(error.code) == -32000


@given(st.lists(st.sampled_from(list(ConnectionEvent)), max_size=10))
def test_any_sequence_of_events_ends_closed_once_closed_and_never_leaves_the_table(
    events: list[ConnectionEvent],
) -> None:
    state = ProtocolState()
    closed_seen = False
    for event in events:
        try:
            state.process_event(event)
        except LocalProtocolError:
            assert event is HELLO_RECEIVED and state.state is not AWAITING_HELLO
        closed_seen = closed_seen or event is CONNECTION_CLOSED
        assert state.state is (CLOSED if closed_seen else state.state)
    assert state.state in (AWAITING_HELLO, READY, CLOSED)
