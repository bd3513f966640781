"""subscribe (6) and unsubscribe (7)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ...model.element import AttributeKey, Element
from ...protocol.errors import ErrorCode, ProtocolError
from ...sessions.entry import BoundSubscription, SubSessionEntry
from ..params import Param, invalid, is_array, is_map, is_uint, not_nil, parse, uuid_param
from ..subscriptions import EventScheduler
from .common import after, attached, check_attribute_id, find_element
from .context import NO_RESULT, CommandContext

_SUBSCRIBE = (
    Param(0, "subscription_array", "an array", is_array),
    Param(1, "maximum_update_rate", "an unsigned integer (milliseconds)", is_uint, required=False),
    Param(2, "minimum_update_rate", "an unsigned integer (milliseconds)", is_uint, required=False),
    uuid_param(3, "desired_subscription_id", required=False),
    Param(256, "sub_session", "a map", is_map, required=False),
)
_BOUND = (
    uuid_param(0, "sub_session_id"),
    Param(1, "queue_size", "an unsigned integer from 1 to 1000", lambda v: type(v) is int and 1 <= v <= 1000, False),
)
_ITEM = (uuid_param(0, "element_uuid"), Param(1, "attribute_ids", "an array", is_array))


def scheduler(ctx: CommandContext) -> EventScheduler:
    connection = ctx.connection
    if connection.events is None:
        connection.events = EventScheduler(
            ctx.state.monotonic, ctx.state.access, connection.principal, budget=ctx.state.budget
        )
    return connection.events


def _items(ctx: CommandContext, array: list[Any]) -> list[tuple[Element, tuple[AttributeKey, ...]]]:
    if not array:
        raise invalid("parameter 0 (subscription_array) must not be empty")
    items = []
    for index, item in enumerate(array):
        if not is_map(item):
            raise invalid(f"parameter 0 (subscription_array) item {index} must be a map")
        try:
            p = parse(item, _ITEM)
        except ProtocolError as error:
            raise invalid(f"parameter 0 (subscription_array) item {index}: {error.message}") from None
        keys = tuple(p[1])
        if not keys:
            raise invalid(f"parameter 0 (subscription_array) item {index} has no attribute ids")
        for key in keys:
            check_attribute_id(key, 0, f"subscription_array item {index} attribute_ids")
        items.append((find_element(ctx.state, p[0]), keys))
    return items


def _bound_to(ctx: CommandContext, options: Mapping[Any, Any]) -> tuple[SubSessionEntry, int]:
    """Key 256 of subscribe (extensions §7): the sub-session (attached here) and the queue size."""
    try:
        bound = parse(options, _BOUND)
    except ProtocolError as error:
        raise invalid(f"parameter 256 (sub_session): {error.message}") from None
    return attached(ctx, bound[0]), bound.get(1, 1)


def subscribe(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    """A subscription of this connection, or (key 256) one bound to a sub-session and persisted with it.

    Both kinds are checked alike: the items, the limits of the subscription, the connection and the
    server (a bound subscription counts where it runs), then read access to every element.
    """
    p = parse(params, _SUBSCRIBE)
    desired = p.get(3)
    if desired is not None:
        not_nil(desired, 3, "desired_subscription_id")
    items = _items(ctx, p[0])
    bound = _bound_to(ctx, p[256]) if 256 in p else None
    events = scheduler(ctx)
    _check_limits(ctx, events, items, desired)
    access = ctx.state.access
    for element, _ in items:
        if not access.can_read(ctx.connection.principal, element):
            raise ProtocolError(ErrorCode.ACCESS_DENIED, f"reading {element.primary_key} is not permitted")
    subscription_id = desired if desired is not None else uuid.uuid4()
    _unbind(ctx, events, subscription_id)
    if bound is None:
        events.add(subscription_id, items, p.get(1), p.get(2))
        return subscription_id
    entry, queue_size = bound
    binding = BoundSubscription(subscription_id, items, p.get(1), p.get(2), queue_size)
    events.add(subscription_id, items, p.get(1), p.get(2), owner=binding)
    return after(ctx.state.sub_sessions.bind(entry, binding), subscription_id)


def _check_limits(
    ctx: CommandContext,
    events: EventScheduler,
    items: list[tuple[Element, tuple[AttributeKey, ...]]],
    desired: uuid.UUID | None,
) -> None:
    """-32602 naming the limit a new (or replacing) subscription would exceed."""
    limits = ctx.state.limits
    attribute_count = sum(len(keys) for _, keys in items)
    if attribute_count > limits.max_subscription_attributes:
        raise invalid(
            f"the subscription has {attribute_count} attributes, more than the limit "
            f"max_subscription_attributes = {limits.max_subscription_attributes}"
        )
    if desired not in events.subscriptions and len(events.subscriptions) >= limits.max_subscriptions:
        raise invalid(
            f"too many subscriptions on this connection (limit max_subscriptions = {limits.max_subscriptions})"
        )
    replaced = events.subscriptions.get(desired) if desired is not None else None
    freed = sum(len(entry.keys) for entry in replaced.entries) if replaced is not None else 0
    connection_total = events.attribute_count - freed + attribute_count
    if connection_total > limits.max_connection_subscription_attributes:
        raise invalid(
            f"this connection would subscribe {connection_total} attributes, more than the limit "
            f"max_connection_subscription_attributes = {limits.max_connection_subscription_attributes}"
        )
    server_total = ctx.state.budget.subscription_attributes - freed + attribute_count
    if server_total > limits.max_total_subscription_attributes:
        raise invalid(
            f"the server's subscription budget is used up (limit max_total_subscription_attributes = "
            f"{limits.max_total_subscription_attributes} over all connections): unsubscribe or try later"
        )


def _unbind(ctx: CommandContext, events: EventScheduler, subscription_id: uuid.UUID) -> Any:
    """If `subscription_id` is a bound subscription on this connection, it stops being one."""
    existing = events.subscriptions.get(subscription_id)
    owner = existing.owner if existing is not None else None
    if owner is None or owner.session is None:
        return None
    return ctx.state.sub_sessions.unbind(owner.session, subscription_id)


_UNSUBSCRIBE = (uuid_param(0, "subscription_id"),)


def unsubscribe(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    subscription_id = parse(params, _UNSUBSCRIBE)[0]
    events = ctx.connection.events
    if events is None or subscription_id not in events.subscriptions:
        raise ProtocolError(ErrorCode.UNKNOWN_SUBSCRIPTION_ID, f"unknown subscription {subscription_id}")
    durable = _unbind(ctx, events, subscription_id)
    events.remove(subscription_id)
    return after(durable, NO_RESULT)
