"""Issue 14 item 15: with a certificate pin, no HTTP byte (and no credential) reaches a server that fails it."""

from __future__ import annotations

import asyncio

import pytest

from xentara_ws.client import ConnectionFailed, certificate_fingerprint, connect


async def test_an_impostor_server_receives_no_credentials(tls_material):
    received = bytearray()

    async def impostor(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(4096):
                received.extend(data)
                writer.write(b"HTTP/1.1 500 No\r\ncontent-length: 0\r\n\r\n")
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(impostor, "127.0.0.1", 0, ssl=tls_material.server_context())
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectionFailed) as failed:
            await connect(
                f"wss://127.0.0.1:{port}/api/ws", user="xentara", password="top-secret", fingerprint="ab" * 32
            )
        assert failed.value.kind == "tls" and "not the pinned one" in str(failed.value)
        await asyncio.sleep(0)
        assert b"top-secret" not in received and b"Authorization" not in received
        assert not received, "no HTTP byte is sent before the pin is checked"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_pin_on_a_plain_ws_url_is_refused_before_connecting():
    with pytest.raises(ConnectionFailed, match="wss://"):
        await connect("ws://127.0.0.1:9/api/ws", user="u", password="p", fingerprint="ab" * 32)


async def test_the_right_pin_still_connects_with_credentials(tls_server, tls_material):
    async with connect(
        f"wss://127.0.0.1:{tls_server.port}/api/ws", fingerprint=certificate_fingerprint(tls_material.der)
    ) as client:
        assert client.protocol_version is not None
