"""Server-wide budgets shared by every connection: subscribed attributes and buffered outgoing bytes.

Per-connection limits alone let many connections together exhaust memory; these counters bound the
total. They are plain counters on the event loop thread (no locking needed).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ServerBudget:
    subscription_attributes: int = 0
    """Element/attribute pairs subscribed across all connections."""
    outgoing_bytes: int = 0
    """Reply and event bytes waiting to be written, across all connections."""
