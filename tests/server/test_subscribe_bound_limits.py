"""A subscription bound to a sub-session (key 256) counts against the same limits as any other."""

from __future__ import annotations

import uuid
from typing import Any

from support.models import REGISTER_UUID, small_model

from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.limits import Limits
from xentara_ws.server.state import ServerState


def _greeted_with_sub_session(dispatcher: Dispatcher) -> tuple[ConnectionState, uuid.UUID]:
    connection = ConnectionState(principal="operator")
    assert dispatcher.handle_message(connection, [[0, 1, 14, {0: 1, 1: 1}]]) == [[1, 1, {0: 1}]]
    entry, _ = dispatcher.state.sub_sessions.create(
        uuid.uuid4(),
        owner="user:operator",
        creator="user:operator",
        method=2,
        principal="operator",
        attachment=connection,
        options={},
    )
    return connection, entry.id


def _subscribe(dispatcher: Dispatcher, connection: ConnectionState, attributes: int, bound: uuid.UUID | None) -> Any:
    params: dict[int, Any] = {0: [{0: REGISTER_UUID, 1: [11] * attributes}]}
    if bound is not None:
        params[256] = {0: bound}
    return dispatcher.handle_message(connection, [[0, 7, 6, params]])[0]  # type: ignore[index]


def test_bound_subscriptions_count_against_the_connection_limit():
    dispatcher = Dispatcher(ServerState(model=small_model(), limits=Limits(max_connection_subscription_attributes=10)))
    connection, sub_session = _greeted_with_sub_session(dispatcher)
    assert _subscribe(dispatcher, connection, 6, None)[0] == 1
    refused = _subscribe(dispatcher, connection, 6, sub_session)
    assert refused[0] == 2 and refused[2][0] == -32602
    assert "max_connection_subscription_attributes = 10" in refused[2][1]
    assert _subscribe(dispatcher, connection, 4, sub_session)[0] == 1


def test_bound_subscriptions_count_against_the_server_budget():
    state = ServerState(model=small_model(), limits=Limits(max_total_subscription_attributes=10))
    dispatcher = Dispatcher(state)
    first, first_sub_session = _greeted_with_sub_session(dispatcher)
    second, second_sub_session = _greeted_with_sub_session(dispatcher)
    assert _subscribe(dispatcher, first, 8, first_sub_session)[0] == 1
    refused = _subscribe(dispatcher, second, 3, second_sub_session)
    assert refused[0] == 2 and "max_total_subscription_attributes = 10" in refused[2][1]
    assert state.budget.subscription_attributes == 8
