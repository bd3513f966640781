"""The dispatcher without a network: spec Appendix B, batching, malformed packets, fuzzing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hardening import settled
from support.models import REGISTER_UUID, small_model

from xentara_ws.protocol.codec import TimePoint, decode, encode
from xentara_ws.protocol.state import AWAITING_HELLO, CLOSED, READY
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState
from xentara_ws.server.subscriptions import EventScheduler


def make_dispatcher(**limits: Any) -> Dispatcher:
    return Dispatcher(ServerState(model=small_model(), limits=Limits(**limits)))


def hello(dispatcher: Dispatcher) -> ConnectionState:
    session = ConnectionState()
    assert dispatcher.handle_bytes(session, bytes.fromhex("818400010ea200010101")) == bytes.fromhex("81830101a10001")
    return session


def test_appendix_b_client_hello_reply_is_byte_exact():
    hello(make_dispatcher())


def test_appendix_b_lookup_reply_is_byte_exact():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = dispatcher.handle_bytes(session, encode([[0, 65, 3, {0: "Group 1.Data Point 1"}]]))
    assert reply.hex() == "8183011841d82550e3ee10714d884ba18e5d0f1e4ce25ee8"
    request = bytes.fromhex("8184000203a1007447726f757020312e4461746120506f696e742031")
    assert decode(dispatcher.handle_bytes(session, request)) == [[1, 2, REGISTER_UUID]]


def test_appendix_b_error_reply_is_byte_exact():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = dispatcher.handle_bytes(session, encode([[0, 67, 2, {0: REGISTER_UUID, 1: [0, 83]}]]))
    assert reply.hex() == ("8183021843a200397f5901781c696e76616c6964206d6574612064617461206964656e746966696572")


def test_appendix_b_write_true_request_is_understood():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    flag = dispatcher.state.model.lookup("Group 1.Flag")
    request = bytes.fromhex("8184000205a300d82550e3ee10714d884ba18e5d0f1e4ce25ee8010b02f5")
    request = request.replace(REGISTER_UUID.bytes, flag.uuid.bytes)
    assert decode(dispatcher.handle_bytes(session, request)) == [[1, 2]]
    assert flag.value is True


def test_appendix_b_unsubscribe_request_decodes_and_reports_an_unknown_subscription():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = decode(
        dispatcher.handle_bytes(session, bytes.fromhex("8184000307a100d825501dc77af85bce42f59fb9ea35544fc967"))
    )
    assert reply[0][:2] == [2, 3] and reply[0][2][0] == -32110


def test_appendix_b_event_message_is_byte_exact():
    model = small_model()
    element = model.find(REGISTER_UUID)
    element.quality = 0
    clock = iter(range(0, 10**12, 10**6))
    scheduler = EventScheduler(lambda: next(clock), ServerState(model=model).access)
    scheduler.add(uuid.UUID("9b8ddaae-c8ea-4a8c-b575-4237bde328be"), [(element, (11, 9, 7))], None, None)
    assert element.change_time == TimePoint(1704107471111587983)
    [message] = scheduler.collect()
    assert message.hex() == (
        "81830800a300d825509b8ddaaec8ea4a8cb5754237bde328be01d82550e3ee10714d884ba18e5d0f1e4ce25ee8"
        "02a30bd879fb404540000000000009d8790007d879d903e9a104c482281b17a634b75ab2088f"
    )


def test_the_documentations_batch_gives_three_responses_the_third_an_error():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = dispatcher.handle_message(
        session,
        [[0, 65, 3, {0: "Group 1.Data Point 1"}], [0, 66, 8], [0, 67, 2, {0: REGISTER_UUID, 1: [0, 83]}]],
    )
    assert reply == [
        [1, 65, REGISTER_UUID],
        [1, 66, 2],
        [2, 67, {0: -32602, 1: "invalid meta data identifier"}],
    ]


def test_commands_before_client_hello_get_32000_and_hello_still_works_afterwards():
    dispatcher = make_dispatcher()
    session = ConnectionState()
    assert dispatcher.handle_message(session, [[0, 1, 8]])[0][2][0] == -32000
    hello_again = dispatcher.handle_message(session, [[0, 2, 14, {0: 1, 1: 1}]])
    assert hello_again == [[1, 2, {0: 1}]]


def test_second_client_hello_gets_32001():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    assert dispatcher.handle_message(session, [[0, 5, 14, {0: 1, 1: 1}]])[0][2][0] == -32001


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({0: 2, 1: 3}, "outside the requested range"),
        ({0: 1, 1: 0}, "greater than"),
        ({0: 1}, "parameter 1 (maximum_protocol_version) is missing"),
        ({0: -1, 1: 1}, "parameter 0 (minimum_protocol_version) must be an unsigned integer"),
        ({0: 1, 1: 1, 7: 0}, "unknown parameter 7"),
    ],
)
def test_client_hello_version_negotiation_failures_name_the_problem(params, fragment):
    dispatcher = make_dispatcher()
    session = ConnectionState()
    [reply] = dispatcher.handle_message(session, [[0, 1, 14, params]])
    assert reply[2][0] == -32602 and fragment in reply[2][1]
    assert not session.hello_done


def test_unknown_opcode_gets_32601():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    assert dispatcher.handle_message(session, [[0, 9, 99]])[0] == [2, 9, {0: -32601, 1: "command not found: opcode 99"}]


@pytest.mark.parametrize(
    ("packet", "message_id", "code"),
    [
        (0, 0, -32600),
        ({0: 1}, 0, -32600),
        ([0, 7], 7, -32700),
        ([], 0, -32700),
        (["0", 7, 8], 7, -32700),
        ([0, "seven", 8], 0, -32700),
        ([0, 7, "8"], 7, -32700),
        ([0, 7, 8.0], 7, -32700),
        ([True, 7, 8], 7, -32700),
        ([1, 7, 8], 7, -32600),
        ([8, 7, 8], 7, -32600),
        ([0, 7, 8, {}, 5], 7, -32600),
        ([0, 7, 8, [1]], 7, -32600),
    ],
)
def test_malformed_packets_get_the_spec_error_and_their_neighbours_are_answered(packet, message_id, code):
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = dispatcher.handle_message(session, [[0, 1, 8], packet, [0, 2, 8]])
    assert reply[0] == [1, 1, 2]
    assert reply[1][:2] == [2, message_id] and reply[1][2][0] == code
    assert reply[2] == [1, 2, 2]


def test_a_bare_packet_without_the_outer_array_is_four_packets_each_with_an_error():
    dispatcher = make_dispatcher()
    session = hello(dispatcher)
    reply = dispatcher.handle_message(session, [0, 1, 14, {0: 1, 1: 1}])
    assert len(reply) == 4 and all(p[0] == 2 for p in reply)


def test_a_message_that_is_not_an_array_gets_one_parse_error():
    dispatcher = make_dispatcher()
    reply = decode(dispatcher.handle_bytes(ConnectionState(), encode({0: 1})))
    assert reply == [[2, 0, {0: -32700, 1: "a message must be an array of packets"}]]


def test_undecodable_bytes_get_one_parse_error_naming_the_problem():
    reply = decode(make_dispatcher().handle_bytes(ConnectionState(), b"\x81\x84\x00"))
    assert reply[0][:2] == [2, 0] and reply[0][2][0] == -32700
    assert reply[0][2][1].startswith("payload not well formed")


def test_packets_beyond_the_limit_get_32600_and_the_others_are_answered():
    dispatcher = make_dispatcher(max_packets_per_message=3)
    session = hello(dispatcher)
    reply = dispatcher.handle_message(session, [[0, i, 8] for i in range(5)])
    assert [p[0] for p in reply] == [1, 1, 1, 2, 2]
    assert reply[3][:2] == [2, 3] and reply[3][2][0] == -32600 and "more than 3 packets" in reply[3][2][1]


def test_an_exception_inside_a_handler_becomes_32603_for_that_packet_only(caplog):
    state = ServerState(model=small_model())

    def broken(ctx, params):
        raise RuntimeError("boom")

    from xentara_ws.server.commands import COMMANDS

    dispatcher = Dispatcher(state, {**COMMANDS, 8: broken})
    session = hello(dispatcher)
    reply = dispatcher.handle_message(session, [[0, 1, 8], [0, 2, 3, {0: "Group 1"}]])
    assert reply[0] == [2, 1, {0: -32603, 1: "internal server error"}]
    assert reply[1][0] == 1
    assert "boom" in caplog.text


cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats()
    | st.text(max_size=10)
    | st.binary(max_size=10)
    | st.uuids(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.integers(0, 5), children, max_size=4),
    max_leaves=25,
)
packets = st.lists(
    st.one_of(
        cbor_values,
        st.tuples(st.just(0), st.integers(-5, 2**32), st.integers(-2, 20), cbor_values).map(list),
        st.tuples(
            st.just(0), st.integers(0, 10), st.integers(0, 15), st.dictionaries(st.integers(0, 4), cbor_values)
        ).map(list),
    ),
    max_size=6,
)


def _assert_well_formed(reply: Any, expected: int | None) -> None:
    assert type(reply) is list
    if expected is not None:
        assert len(reply) == expected
    for packet in reply:
        assert packet[0] in (1, 2) and type(packet[1]) is int
        if packet[0] == 2:
            assert set(packet[2]) == {0, 1} and type(packet[2][0]) is int and type(packet[2][1]) is str
    encode(reply)


_DISPATCHER = make_dispatcher()


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(packets, st.booleans())
def test_random_cbor_values_never_raise_and_always_get_well_formed_replies(message, greeted):
    session = hello(_DISPATCHER) if greeted else ConnectionState()
    reply = decode(settled(_DISPATCHER.handle_bytes(session, encode(message))))
    _assert_well_formed(reply, len(message))


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_random_bytes_never_raise_and_always_get_well_formed_replies(data):
    reply = decode(_DISPATCHER.handle_bytes(hello(_DISPATCHER), data))
    _assert_well_formed(reply, None)


def test_a_connection_moves_through_the_protocol_states():
    dispatcher = make_dispatcher()
    session = ConnectionState()
    assert session.phase is AWAITING_HELLO
    assert dispatcher.handle_message(session, [[0, 4, 3, {0: "Group 1.Data Point 1"}]])[0] == [
        2,
        4,
        {0: -32000, 1: "missing client hello request"},
    ]
    session = hello(dispatcher)
    assert session.phase is READY and session.hello_done
    assert dispatcher.handle_message(session, [[0, 2, 14, {0: 1, 1: 1}]])[0][2][0] == -32001
    dispatcher.connection_lost(session)
    assert session.phase is CLOSED and session.closed and not session.hello_done
    dispatcher.connection_lost(session)  # a second report of the same loss changes nothing
    assert session.phase is CLOSED
    # Nothing runs on a closed connection, not even a late client_hello.
    assert dispatcher.handle_message(session, [[0, 5, 14, {0: 1, 1: 1}]])[0][2][0] == -32000
