"""The client library against a real server over loopback: every command, typed results, errors."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

import pytest
from support.models import COUNTER_UUID, FLAG_UUID, GROUP_UUID, REGISTER_UUID
from support.servers import url

from xentara_ws.client import (
    AccessRights,
    Element,
    Timestamp,
    XentaraClient,
    XentaraError,
    connect,
)
from xentara_ws.protocol import (
    Access,
    Attribute,
    DataType,
    ElementCategory,
    ErrorCode,
    MetaData,
    Quality,
    ServerInformation,
    Stage,
)


async def test_server_information_returns_version_and_model_path(server):
    async with connect(url(server)) as client:
        info = await client.server_information()
    assert info[ServerInformation.VERSION].startswith("xentara-ws")
    assert info[ServerInformation.MODEL_FILE_PATH] == "/models/small.json"
    assert client.protocol_version == 1


async def test_browse_returns_typed_elements_with_depth_and_category_filter(server):
    async with connect(url(server)) as client:
        everything = await client.browse()
        top = await client.browse(depth=1)
        points = await client.browse("Group 1", categories=[ElementCategory.DATA_POINT])
    assert Element("Group 1", GROUP_UUID, ElementCategory.ELEMENT_GROUP) in everything
    assert Element("Group 1.Data Point 1", REGISTER_UUID, ElementCategory.DATA_POINT) in everything
    assert [e.primary_key for e in top] == ["Group 1"]
    assert all(e.category is ElementCategory.DATA_POINT for e in points) and len(points) == 6


async def test_meta_data_lists_attributes_with_access_and_data_type(server):
    async with connect(url(server)) as client:
        meta = await client.meta_data(REGISTER_UUID)
        only_key = await client.meta_data("Group 1.Flag", [MetaData.PRIMARY_KEY])
    assert meta.primary_key == "Group 1.Data Point 1"
    assert meta.category is ElementCategory.DATA_POINT
    assert meta.has_children is False
    value = meta.attribute("value")
    assert value is not None and value.id is Attribute.VALUE
    assert value.access is Access.READ_WRITE and value.data_type is DataType.FLOAT_64
    assert meta.attribute(Attribute.QUALITY) is not None
    assert only_key.primary_key == "Group 1.Flag" and only_key.attributes is None


async def test_lookup_returns_the_uuid_and_unknown_key_raises_with_code(server):
    async with connect(url(server)) as client:
        assert await client.lookup("Group 1.Counter") == COUNTER_UUID
        with pytest.raises(XentaraError) as raised:
            await client.lookup("No.Such.Element")
    assert raised.value.code is ErrorCode.UNKNOWN_ELEMENT
    assert raised.value.message


async def test_read_gives_typed_values_and_per_attribute_errors_as_objects(server):
    async with connect(url(server)) as client:
        values = await client.read(
            REGISTER_UUID, [Attribute.VALUE, Attribute.QUALITY, Attribute.CHANGE_TIME, Attribute.DEVICE_STATE]
        )
    assert values.value == 42.5
    assert values.quality is Quality.GOOD
    stamp = values.change_time
    assert isinstance(stamp, Timestamp) and stamp.tzinfo is UTC
    assert stamp.ns == 1_704_107_471_111_587_983
    assert stamp.isoformat().startswith("2024-01-01T11:11:11.111587")
    failure = values[Attribute.DEVICE_STATE]
    assert isinstance(failure, XentaraError) and failure.code is ErrorCode.MISSING_ATTRIBUTE
    assert list(values.errors) == [Attribute.DEVICE_STATE]


async def test_read_by_attribute_uuid_keys_result_by_that_uuid(server):
    async with connect(url(server)) as client:
        values = await client.read("Group 1.Data Point 1", [Attribute.VALUE.uuid])
    assert values[Attribute.VALUE.uuid] == 42.5
    assert values.value == 42.5


async def test_write_then_read_back_and_type_mismatch_raises(server):
    async with connect(url(server)) as client:
        await client.write("Group 1.Flag", True)
        assert (await client.read(FLAG_UUID)).value is True
        with pytest.raises(XentaraError) as raised:
            await client.write(FLAG_UUID, "not a bool")
        assert raised.value.code is ErrorCode.TYPE_MISMATCH
        with pytest.raises(XentaraError) as read_only:
            await client.write(FLAG_UUID, "x", Attribute.NAME)
        assert read_only.value.code is ErrorCode.READ_ONLY


async def test_subscribe_delivers_initial_event_then_change_after_write(server):
    async with connect(url(server)) as client:
        subscription = await client.subscribe(["Group 1.Data Point 1"], max_update_rate=10)
        initial = await subscription.next(timeout=5)
        assert initial.element == REGISTER_UUID and initial.values.value == 42.5
        assert initial.subscription_id == subscription.id
        await client.write(REGISTER_UUID, 7.25)
        change = await subscription.next(timeout=5)
        assert change.values.value == 7.25
        assert subscription.latest[REGISTER_UUID].quality is Quality.GOOD
        await subscription.unsubscribe()
        # Unsubscribing ends the iteration.
        assert [c async for c in subscription] == []
        with pytest.raises(XentaraError) as raised:
            await client.unsubscribe(subscription.id)
        assert raised.value.code is ErrorCode.UNKNOWN_SUBSCRIPTION_ID


async def test_subscribe_with_desired_id_and_per_element_attributes(server):
    wanted = uuid.uuid4()
    async with connect(url(server)) as client:
        subscription = await client.subscribe(
            {REGISTER_UUID: [Attribute.VALUE], "Group 1.Counter": [Attribute.QUALITY]}, subscription_id=wanted
        )
        assert subscription.id == wanted
        changes = [await subscription.next(timeout=5), await subscription.next(timeout=5)]
    by_element = {c.element: c.values for c in changes}
    assert by_element[REGISTER_UUID] == {Attribute.VALUE: 42.5}
    assert by_element[COUNTER_UUID] == {Attribute.QUALITY: Quality.GOOD}


async def test_closing_the_client_ends_subscription_iteration(server):
    client = await connect(url(server))
    subscription = await client.subscribe([REGISTER_UUID])
    await subscription.next(timeout=5)
    await client.close()
    assert [c async for c in subscription] == []


async def test_stage_suspend_resume_and_disabled_shutdown(server):
    async with connect(url(server)) as client:
        assert await client.get_stage() is Stage.OPERATIONAL
        await client.suspend()
        assert await client.get_stage() is Stage.SUSPENDED
        with pytest.raises(XentaraError) as twice:
            await client.suspend()
        assert twice.value.code is ErrorCode.INVALID_STAGE_CHANGE_REQUEST
        await client.resume()
        assert await client.get_stage() is Stage.OPERATIONAL
        with pytest.raises(XentaraError) as shutdown:
            await client.shutdown()
        assert shutdown.value.code is ErrorCode.ACCESS_DENIED


async def test_sub_session_with_password_token_and_certificate(login_server, logins):
    async with connect(url(login_server)) as client:
        session = await client.create_sub_session(user="operator", password="secret")
        assert await client.check_access(session) == AccessRights(read=True, write=True)
        await client.write(REGISTER_UUID, 1.0, sub_session=session)
        await client.suspend(sub_session=session)
        await client.resume(sub_session=session)
        await client.close_sub_session(session)
        with pytest.raises(XentaraError) as closed:
            await client.check_access(session)
        assert closed.value.code is ErrorCode.UNKNOWN_SESSION_ID

        wanted = uuid.uuid4()
        assert await client.create_sub_session(token="good-token", session_id=wanted) == wanted
        certificate_session = await client.create_sub_session(certificate=b"\x30\x03\x02\x01\x01")
        assert isinstance(certificate_session, uuid.UUID)
        with pytest.raises(XentaraError) as refused:
            await client.create_sub_session(user="operator", password="wrong")
        assert refused.value.code is ErrorCode.ACCESS_DENIED
        with pytest.raises(XentaraError) as unknown:
            await client.close_sub_session(uuid.uuid4())
        assert unknown.value.code is ErrorCode.UNKNOWN_SESSION_ID
    assert [kind for kind, _ in logins.logins] == ["password", "token", "certificate", "password"]


async def test_concurrent_requests_travel_in_one_message(server):
    seen: list[int] = []
    dispatcher = server.edge.dispatcher
    original = dispatcher.handle_bytes

    def recording(session, message):
        from xentara_ws.protocol.codec import decode

        seen.append(len(decode(message)))
        return original(session, message)

    dispatcher.handle_bytes = recording
    async with connect(url(server)) as client:
        before = client.messages_sent
        results = await asyncio.gather(
            client.lookup("Group 1.Flag"),
            client.read(REGISTER_UUID),
            client.get_stage(),
            client.lookup("Group 1.Counter"),
            client.server_information(),
        )
        assert client.messages_sent == before + 1
    assert seen == [1, 5]  # client_hello alone, then the five requests together
    assert results[0] == FLAG_UUID and results[3] == COUNTER_UUID
    assert results[1].value == 42.5 and results[2] is Stage.OPERATIONAL


async def test_a_failing_request_does_not_affect_its_batch_neighbours(server):
    async with connect(url(server)) as client:
        results = await asyncio.gather(client.lookup("Nope"), client.lookup("Group 1.Flag"), return_exceptions=True)
    assert isinstance(results[0], XentaraError) and results[0].code is ErrorCode.UNKNOWN_ELEMENT
    assert results[1] == FLAG_UUID


async def test_client_without_connect_context_manager(server):
    client = XentaraClient(url(server), reconnect=False)
    await client.connect()
    try:
        assert client.connected
        assert await client.lookup("Group 1") == GROUP_UUID
    finally:
        await client.close()
    assert not client.connected
