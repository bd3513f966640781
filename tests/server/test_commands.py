"""Every command of the API over a real WebSocket, with its error codes (spec sections 5 and 7)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from cbor2 import CBORTag
from support.models import COUNTER_UUID, DOTTED_UUID, FLAG_UUID, GROUP_UUID, OUTPUT_UUID, PENDING_UUID, REGISTER_UUID
from support.raw_client import RawClient

from xentara_ws.protocol.codec import TimePoint
from xentara_ws.protocol.identifiers import NIL_UUID, Attribute
from xentara_ws.server.app import XentaraServer

UNKNOWN = uuid.UUID("deadbeef-0000-4000-8000-000000000000")


@pytest.fixture
async def client(server):
    connection = await RawClient.open(server.port)
    yield connection
    await connection.close()


def error_code(reply):
    assert reply[0] == 2, reply
    return reply[2][0]


async def test_server_information_returns_version_account_and_model_path(client):
    reply = await client.request(0, {0: [0, 1, 2]})
    assert reply[0] == 1
    assert reply[2][0].startswith("xentara-ws ")
    assert isinstance(reply[2][1], str) and reply[2][1]
    assert reply[2][2] == "/models/small.json"


async def test_server_information_with_an_unknown_id_is_32602(client):
    reply = await client.request(0, {0: [0, 7]})
    assert error_code(reply) == -32602 and "7" in reply[2][1]


async def test_browse_from_the_nil_uuid_walks_the_whole_tree(client):
    reply = await client.request(1, {0: NIL_UUID})
    keys = [entry[0] for entry in reply[2]]
    assert keys[0] == "Group 1"
    assert "Group 1.Data Point 1" in keys and "Group 1.[v1.2]" in keys
    assert reply[2][0] == {0: "Group 1", 1: GROUP_UUID, 2: 1}


async def test_browse_depth_one_lists_direct_children_only(client):
    reply = await client.request(1, {0: NIL_UUID, 1: 1})
    assert [entry[0] for entry in reply[2]] == ["Group 1"]


async def test_browse_category_filter_applies_to_output_but_traverses_everything(client):
    reply = await client.request(1, {0: NIL_UUID, 2: [2]})
    assert reply[2] and all(entry[2] == 2 for entry in reply[2])
    assert "Group 1.Flag" in [entry[0] for entry in reply[2]]


async def test_browse_of_an_unknown_element_is_32100(client):
    assert error_code(await client.request(1, {0: UNKNOWN})) == -32100


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "parameter 0 (element_uuid) is missing"),
        ({0: "Group 1"}, "parameter 0 (element_uuid) must be a UUID"),
        ({0: NIL_UUID, 1: -1}, "parameter 1 (depth) must be an unsigned integer"),
        ({0: NIL_UUID, 1: 0}, "at least 1"),
        ({0: NIL_UUID, 2: [99]}, "invalid category 99"),
        ({0: NIL_UUID, 2: 2}, "parameter 2 (element_category) must be an array"),
    ],
)
async def test_browse_parameter_errors_name_the_parameter(client, params, fragment):
    reply = await client.request(1, params)
    assert error_code(reply) == -32602 and fragment in reply[2][1]


async def test_meta_data_returns_key_category_attribute_list_and_children(client):
    reply = await client.request(2, {0: REGISTER_UUID, 1: [0, 1, 2, 3]})
    result = reply[2]
    assert result[0] == "Group 1.Data Point 1" and result[1] == 2 and result[3] is False
    value = next(a for a in result[2] if a[1] == 11)
    assert value == {0: "value", 1: 11, 2: 2, 3: 10}
    assert {a[1] for a in result[2]} == {0, 1, 2, 3, 4, 6, 7, 8, 9, 11}


async def test_meta_data_of_a_group_has_children(client):
    reply = await client.request(2, {0: GROUP_UUID, 1: [3]})
    assert reply[2] == {3: True}


async def test_lookup_finds_elements_and_bracketed_names(client):
    assert (await client.request(3, {0: "Group 1.Data Point 1"}))[2] == REGISTER_UUID
    assert (await client.request(3, {0: "Group 1.[v1.2]"}))[2] == DOTTED_UUID


async def test_lookup_errors(client):
    assert error_code(await client.request(3, {0: "Group 1.Nothing"})) == -32100
    reply = await client.request(3, {0: ""})
    assert error_code(reply) == -32602 and "must not be empty" in reply[2][1]
    reply = await client.request(3, {0: 5})
    assert reply[2][1] == "parameter 0 (primary_key) must be a text string"


async def test_read_echoes_int_and_uuid_ids_with_tagged_values(client):
    reply = await client.request(4, {0: REGISTER_UUID, 1: [11, Attribute.QUALITY.uuid, 7, 3, 4]})
    values = reply[2]
    assert values[11] == CBORTag(121, 42.5)
    assert values[Attribute.QUALITY.uuid] == CBORTag(121, 0)
    assert values[7] == CBORTag(121, TimePoint(1_704_107_471_111_587_983))
    assert values[3] == CBORTag(121, "register")
    assert values[4] == CBORTag(121, "data point")


async def test_read_failures_are_per_attribute(client):
    reply = await client.request(4, {0: REGISTER_UUID, 1: [11, 10, 12]})
    assert reply[2][11].tag == 121
    assert reply[2][10] == CBORTag(122, {0: -32101, 1: "missing attribute"})
    assert reply[2][12].value[0] == -32101


async def test_read_of_a_write_only_attribute_is_32104(client):
    reply = await client.request(4, {0: OUTPUT_UUID, 1: [11]})
    assert reply[2][11].tag == 122 and reply[2][11].value[0] == -32104


async def test_read_of_a_value_never_produced_is_32108(client):
    reply = await client.request(4, {0: PENDING_UUID, 1: [11]})
    assert reply[2][11].tag == 122 and reply[2][11].value[0] == -32108


async def test_read_errors(client):
    assert error_code(await client.request(4, {0: UNKNOWN, 1: [11]})) == -32100
    reply = await client.request(4, {0: REGISTER_UUID, 1: 11})
    assert reply[2][1] == "parameter 1 (attribute_ids) must be an array"
    reply = await client.request(4, {0: REGISTER_UUID, 1: [14]})
    assert error_code(reply) == -32602 and "14" in reply[2][1]


async def test_write_stores_the_value_and_updates_times(server, client):
    assert await client.request(5, {0: REGISTER_UUID, 1: 11, 2: 2.5}) == [1, client.next_id - 1]
    reply = await client.request(4, {0: REGISTER_UUID, 1: [11, 8]})
    assert reply[2][11] == CBORTag(121, 2.5)
    assert reply[2][8].value.ns > 1_704_107_471_111_587_983


async def test_write_accepts_an_integer_into_a_float_and_a_uuid_addressed_attribute(client):
    assert (await client.request(5, {0: REGISTER_UUID, 1: Attribute.VALUE.uuid, 2: 5}))[0] == 1
    assert (await client.request(4, {0: REGISTER_UUID, 1: [11]}))[2][11] == CBORTag(121, 5.0)


@pytest.mark.parametrize(
    ("element", "attribute", "value", "code"),
    [
        (REGISTER_UUID, 1, "new name", -32103),
        (COUNTER_UUID, 11, 256, -32105),
        (COUNTER_UUID, 11, -1, -32105),
        (COUNTER_UUID, 11, 2.5, -32106),
        (FLAG_UUID, 11, 1, -32106),
        (REGISTER_UUID, 11, "high", -32106),
        (REGISTER_UUID, 11, None, -32106),
        (REGISTER_UUID, 11, float("nan"), -32107),
        (REGISTER_UUID, 10, True, -32101),
        (UNKNOWN, 11, 1.0, -32100),
    ],
)
async def test_write_errors(client, element, attribute, value, code):
    assert error_code(await client.request(5, {0: element, 1: attribute, 2: value})) == code


async def test_write_with_an_unknown_sub_session_is_32111(client):
    reply = await client.request(5, {0: REGISTER_UUID, 1: 11, 2: 1.0, 3: UNKNOWN})
    assert error_code(reply) == -32111


async def test_write_without_a_value_names_the_parameter(client):
    reply = await client.request(5, {0: REGISTER_UUID, 1: 11})
    assert reply[2][1] == "parameter 2 (attribute_value) is missing"


async def test_get_stage_is_operational(client):
    reply = await client.request(8)
    assert reply[0] == 1 and reply[2] == 2


async def test_an_authentication_tag_outside_121_to_123_is_an_invalid_parameter_of_that_packet(client):
    # Decision 15 as amended: a refused value inside a well-formed packet is that packet's -32602.
    reply = await client.request(12, {0: CBORTag(124, {0: "x"})})
    assert error_code(reply) == -32602 and "tag 124" in reply[2][1] and reply[1] != 0


async def test_suspend_and_resume_follow_the_stage_machine(client):
    assert (await client.request(10))[0] == 1
    assert (await client.request(8))[2] == 5
    assert error_code(await client.request(10)) == -32112
    reply = await client.request(5, {0: REGISTER_UUID, 1: 11, 2: 1.0})
    assert error_code(reply) == -32109
    assert (await client.request(9))[0] == 1
    assert (await client.request(8))[2] == 2
    assert error_code(await client.request(9)) == -32112


async def test_suspend_with_an_unknown_sub_session_is_32111(client):
    assert error_code(await client.request(10, {0: UNKNOWN})) == -32111


async def test_shutdown_is_refused_unless_the_operator_enabled_it(client):
    reply = await client.request(11)
    assert error_code(reply) == -32102 and "--allow-shutdown" in reply[2][1]


async def test_enabled_shutdown_replies_then_stops_the_server(model):
    server = XentaraServer(model, shutdown_enabled=True)
    await server.start("127.0.0.1", 0)
    client = await RawClient.open(server.port)
    assert (await client.request(11))[0] == 1
    await asyncio.wait_for(server.stopped.wait(), 5)
    await asyncio.wait_for(client.connection.wait_closed(), 5)
    assert client.connection.close_code == 1001


async def test_sub_session_login_without_security_configuration_is_32102(client):
    reply = await client.request(12, {0: CBORTag(123, {0: "user", 1: "secret"})})
    assert error_code(reply) == -32102


@pytest.mark.parametrize(
    "params",
    [
        {},
        {0: {0: "user"}},
        {0: CBORTag(121, {0: 5})},
        {0: CBORTag(122, {0: "not DER"})},
        {0: CBORTag(123, {0: "user"})},
        {0: CBORTag(123, {0: "user", 1: "pw"}), 1: NIL_UUID},
    ],
)
async def test_create_sub_session_parameter_errors(client, params):
    assert error_code(await client.request(12, params)) == -32602


async def test_close_and_check_access_of_unknown_sub_sessions(client):
    assert error_code(await client.request(13, {0: UNKNOWN})) == -32111
    assert error_code(await client.request(15, {0: UNKNOWN})) == -32111
    reply = await client.request(15, {0: NIL_UUID})
    assert error_code(reply) == -32602 and "nil" in reply[2][1]
    assert error_code(await client.request(15, {})) == -32602


async def test_get_stage_with_parameters_is_32602(client):
    assert error_code(await client.request(8, {0: 1})) == -32602
