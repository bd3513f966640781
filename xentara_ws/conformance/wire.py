"""How the kit puts packets on the wire and reads replies: plain CBOR, every tag kept as sent.

The decoding itself lives in the protocol core (protocol/diagnostic.py), the only place that uses the CBOR library.
"""

from __future__ import annotations

from ..protocol.diagnostic import Tagged, WireError, decode_raw, encode

__all__ = ["Tagged", "WireError", "decode_raw", "encode"]
