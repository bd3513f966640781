from support.models import REGISTER_UUID
from support.raw_client import RawClient


async def test_client_hello_and_read_over_a_real_websocket(server):
    client = await RawClient.open(server.port)
    reply = await client.request(4, {0: REGISTER_UUID, 1: [11, 9, 0]})
    assert reply[0] == 1
    values = reply[2]
    assert values[11].tag == 121 and values[11].value == 42.5
    assert values[0].value == "Group 1.Data Point 1"
    await client.close()
