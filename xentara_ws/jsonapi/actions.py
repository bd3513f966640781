"""The Xentara actions (extensions §8.3, §9.20): named parameters in, the CBOR handlers run, JSON out.

Each action only translates: element and attribute names become UUIDs and ids, JSON values
become CBOR-side values, and the command handler of the CBOR dispatcher does the work, so the
rules (access, stages, limits) and the error codes are the same on both renditions.
"""

from __future__ import annotations

from typing import Any

from ..model.element import AttributeKey, Element
from ..protocol.errors import ErrorCode
from ..protocol.identifiers import Access, DataType, ElementCategory, MetaData, Opcode, ServerInformation, Stage
from .context import Action, ActionContext, Params, find_attribute, find_element
from .envelope import ActionError, invalid
from .values import attribute_to_json, category_from_json, category_name, error_json, from_json

MAX_WAIT_MS = 30_000
MAX_EVENTS_PER_CALL = 10_000
MAX_WAITING_POLLS = 8
"""getEvents calls of one session waiting at the same time."""


def _key_json(key: AttributeKey) -> Any:
    return key if type(key) is int else str(key)


async def server_information(ctx: ActionContext, p: Params) -> dict[str, Any]:
    ids = [int(ServerInformation.VERSION), int(ServerInformation.USER_NAME), int(ServerInformation.MODEL_FILE_PATH)]
    info = await ctx.call(Opcode.SERVER_INFORMATION, {0: ids})
    return {"version": info[0], "accountName": info[1], "modelPath": info[2]}


async def browse(ctx: ActionContext, p: Params) -> dict[str, Any]:
    start = find_element(ctx, p.raw("element"), "element", default_root=True)
    params: dict[int, Any] = {0: start.uuid}
    depth = p.uint("depth", minimum=1)
    if depth is not None:
        params[1] = depth
    categories = p.raw("category")
    if categories is not None:
        if type(categories) is not list:
            categories = [categories]
        wanted = []
        for category in categories:
            number = category_from_json(category)
            if number is None:
                names = ", ".join(f'"{c.text}"' for c in ElementCategory)
                raise invalid(f"parameter 'category' holds {category!r}, which is not a category ({names})")
            wanted.append(number)
        params[2] = wanted
    found = await ctx.call(Opcode.BROWSE, params)
    model = ctx.api.state.model
    elements = []
    for item in found:
        element = model.find(item[1])
        elements.append(
            {
                "name": element.name if element is not None else "",
                "primaryKey": item[0],
                "uuid": str(item[1]),
                "category": category_name(item[2]),
            }
        )
    return {"elements": elements}


async def meta_data(ctx: ActionContext, p: Params) -> dict[str, Any]:
    element = find_element(ctx, p.raw("element"), "element", default_root=True)
    ids = [int(m) for m in MetaData]
    meta = await ctx.call(Opcode.META_DATA, {0: element.uuid, 1: ids})
    return {
        "primaryKey": meta[MetaData.PRIMARY_KEY],
        "uuid": str(element.uuid),
        "category": category_name(meta[MetaData.ELEMENT_CATEGORY]),
        "hasChildren": meta[MetaData.HAS_CHILDREN],
        "attributes": [
            {
                "name": item[0],
                "id": _key_json(item[1]),
                "dataType": DataType(item[3]).name.lower(),
                "access": Access(item[2]).name.lower(),
            }
            for item in meta[MetaData.ATTRIBUTE_LIST]
        ],
    }


async def lookup(ctx: ActionContext, p: Params) -> dict[str, Any]:
    found = await ctx.call(Opcode.LOOKUP, {0: p.required_text("primaryKey")})
    return {"uuid": str(found)}


def _attribute_list(element: Element, names: list[Any] | None, what: str) -> list[tuple[str, Any]]:
    """(reply name, attribute key or an error object) per requested attribute; default all readable."""
    if names is None:
        return [(spec.name, spec.key) for spec in element.attributes.values() if spec.access.readable]
    if not names:
        raise invalid(f"parameter '{what}' must not be empty")
    out: list[tuple[str, Any]] = []
    for name in names:
        try:
            spec = find_attribute(element, name, what)
        except ActionError as error:
            if error.code == ErrorCode.INVALID_PARAMETER:
                raise
            out.append((str(name), error))
            continue
        out.append((spec.name, spec.key))
    return out


async def read(ctx: ActionContext, p: Params) -> dict[str, Any]:
    element = find_element(ctx, p.raw("element"), "element")
    wanted = _attribute_list(element, p.array("attributes"), "attributes")
    keys = [key for _, key in wanted if not isinstance(key, ActionError)]
    values = await ctx.call(Opcode.READ, {0: element.uuid, 1: keys}) if keys else {}
    out: dict[str, Any] = {}
    for name, key in wanted:
        if isinstance(key, ActionError):
            out[name] = error_json(key.code, key.message)
        else:
            out[name] = attribute_to_json(element.attributes[key].data_type, values[key])
    return {"element": element.primary_key, "uuid": str(element.uuid), "values": out}


async def write(ctx: ActionContext, p: Params) -> dict[str, Any]:
    element = find_element(ctx, p.raw("element"), "element")
    spec = find_attribute(element, p.raw("attribute", "value"), "attribute")
    if "value" not in p.values:
        raise invalid("parameter 'value' is missing")
    params: dict[int, Any] = {0: element.uuid, 1: spec.key, 2: from_json(spec.data_type, p.values["value"])}
    sub_session = p.uuid("subSessionId")
    if sub_session is not None:
        params[3] = sub_session
    await ctx.call(Opcode.WRITE, params)
    return {}


async def subscribe(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    items = p.array("elements", required=True)
    assert items is not None
    if not items:
        raise invalid("parameter 'elements' must not be empty")
    array = []
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise invalid(f"parameter 'elements' item {index} must be an object {{element, attributes}}")
        unknown = set(item) - {"element", "attributes"}
        if unknown:
            raise invalid(f"parameter 'elements' item {index} has an unknown member {sorted(unknown)[0]!r}")
        element = find_element(ctx, item.get("element"), f"elements[{index}].element")
        names = item.get("attributes")
        if names is not None and type(names) is not list:
            raise invalid(f"parameter 'elements[{index}].attributes' must be an array")
        keys = []
        for _name, key in _attribute_list(element, names, f"elements[{index}].attributes"):
            if isinstance(key, ActionError):
                raise key
            keys.append(key)
        array.append({0: element.uuid, 1: keys})
    queue_size = p.uint("queueSize", 1, minimum=1, maximum=1000)
    assert queue_size is not None
    # §8.5: bound to the session (§7), so changes are kept between requests and across restarts.
    params: dict[int, Any] = {0: array, 256: {0: session.id, 1: queue_size}}
    for name, key in (("maximumUpdateRate", 1), ("minimumUpdateRate", 2)):
        rate = p.uint(name)
        if rate is not None:
            params[key] = rate
    desired = p.uuid("subscriptionId")
    if desired is not None:
        params[3] = desired
    subscription_id = await ctx.call(Opcode.SUBSCRIBE, params)
    session.events.queue_sizes[str(subscription_id)] = queue_size
    return {"subscriptionId": str(subscription_id)}


async def unsubscribe(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    subscription_id = p.uuid("subscriptionId", required=True)
    await ctx.call(Opcode.UNSUBSCRIBE, {0: subscription_id})
    session.events.forget(str(subscription_id))
    return {}


async def get_events(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    subscription = p.uuid("subscriptionId")
    max_events = p.uint("maxEvents", 1000, minimum=1, maximum=MAX_EVENTS_PER_CALL)
    wait_ms = p.uint("waitMilliseconds", 0, maximum=MAX_WAIT_MS)
    assert max_events is not None and wait_ms is not None
    subscription_id = str(subscription) if subscription is not None else None
    if subscription is not None:
        events = session.connection.events
        if events is None or subscription not in events.subscriptions:
            raise ActionError(int(ErrorCode.UNKNOWN_SUBSCRIPTION_ID), f"unknown subscription {subscription}")
    queue = session.events
    await ctx.api.settle(session)
    if wait_ms and not queue.has_events(subscription_id):
        await ctx.api.wait_for_events(session, subscription_id, wait_ms / 1000)
    taken, dropped = queue.take(max_events, subscription_id)
    return {"events": taken, "dropped": dropped}


async def get_stage(ctx: ActionContext, p: Params) -> dict[str, Any]:
    stage = await ctx.call(Opcode.GET_STAGE, None)
    return {"stage": Stage(stage).name.lower()}


def _stage_action(opcode: Opcode) -> Action:
    async def change(ctx: ActionContext, p: Params) -> dict[str, Any]:
        sub_session = p.uuid("subSessionId")
        await ctx.call(opcode, {0: sub_session} if sub_session is not None else None)
        return {}

    return change


async def check_access(ctx: ActionContext, p: Params) -> dict[str, Any]:
    session = ctx.require_session()
    result = await ctx.call(Opcode.CHECK_ACCESS, {0: session.id})
    return {"read": result[0], "write": result[1]}


XENTARA_ACTIONS: dict[str, tuple[Action, frozenset[str]]] = {
    name.lower(): (action, frozenset(params))
    for name, action, params in (
        ("serverInformation", server_information, ()),
        ("browse", browse, ("element", "depth", "category")),
        ("metaData", meta_data, ("element",)),
        ("lookup", lookup, ("primaryKey",)),
        ("read", read, ("element", "attributes")),
        ("write", write, ("element", "attribute", "value", "subSessionId")),
        (
            "subscribe",
            subscribe,
            ("elements", "maximumUpdateRate", "minimumUpdateRate", "queueSize", "subscriptionId"),
        ),
        ("unsubscribe", unsubscribe, ("subscriptionId",)),
        ("getEvents", get_events, ("subscriptionId", "maxEvents", "waitMilliseconds")),
        ("getStage", get_stage, ()),
        ("suspend", _stage_action(Opcode.SUSPEND), ("subSessionId",)),
        ("resume", _stage_action(Opcode.RESUME), ("subSessionId",)),
        ("shutdown", _stage_action(Opcode.SHUTDOWN), ("subSessionId",)),
        ("checkAccess", check_access, ()),
    )
}
"""Lower-cased action name -> (action, its parameter names)."""
