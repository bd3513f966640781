"""A starting (or reconnected) node's catch-up: the latest change of every element, page by page.

Request/reply on `xws.<cluster>.snapshot`. The request names the last element UUID of the previous
page (or nothing for the first page); every ready node may answer, the first answer is used. Pages
are sorted by element UUID, so a page from one node continues a page from another. The requester
applies each record with the usual order rule (newer stamp wins), so a record older than a change
that arrived on the value subjects meanwhile is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from ..protocol import codec
from .changes import ChangeFormatError, ValueChange

PAGE_BYTES = 256 * 1024
"""A page stays well below NATS' default 1 MiB payload limit."""


def encode_request(after: uuid.UUID | None) -> bytes:
    return codec.encode({0: after})


def decode_request(data: bytes) -> uuid.UUID | None:
    item = codec.decode(data)
    after = item.get(0) if isinstance(item, dict) else None
    return after if isinstance(after, uuid.UUID) else None


def encode_page(changes: Iterable[ValueChange], after: uuid.UUID | None, page_bytes: int = PAGE_BYTES) -> bytes:
    """The records after `after` (by UUID) up to about `page_bytes`, and whether more follow."""
    records: list[bytes] = []
    size = 0
    ordered = sorted((c for c in changes if after is None or c.element > after), key=lambda c: c.element)
    more = False
    for change in ordered:
        if size >= page_bytes:
            more = True
            break
        record = change.encode()
        records.append(record)
        size += len(record)
    return codec.encode({0: records, 1: more})


def decode_page(data: bytes) -> tuple[list[ValueChange], bool]:
    item = codec.decode(data)
    if not isinstance(item, dict) or not isinstance(item.get(0), list) or type(item.get(1)) is not bool:
        raise ChangeFormatError("a snapshot page must be {0: [records], 1: more}")
    return [ValueChange.decode(record) for record in item[0]], item[1]
