"""CBOR diagnostic notation (RFC 8949 §8, EDN) for what the kit sent and received (see protocol/diagnostic.py)."""

from __future__ import annotations

from ..protocol.diagnostic import render, render_message

__all__ = ["render", "render_message"]
