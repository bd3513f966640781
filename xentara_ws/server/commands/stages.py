"""get_stage (8), suspend (10), resume (9) and shutdown (11): the stage machine of spec 10.8."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.errors import ErrorCode, ProtocolError
from ...protocol.identifiers import Stage
from ..params import parse, uuid_param
from .common import principals
from .context import NO_RESULT, CommandContext

SUSPEND_ENTITLEMENT = "suspend"
SHUTDOWN_ENTITLEMENT = "shutdown"

_STAGE_PARAMS = (uuid_param(0, "session_id", required=False),)


def _authorize(ctx: CommandContext, params: Mapping[Any, Any] | None, entitlement: str) -> None:
    who = principals(ctx, parse(params, _STAGE_PARAMS).get(0))
    if not all(ctx.state.access.allowed(p, entitlement, None) for p in who):
        raise ProtocolError(ErrorCode.ACCESS_DENIED, f"the {entitlement!r} entitlement is not granted")


def get_stage(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    parse(params, ())
    return int(ctx.state.stage)


def suspend(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    _authorize(ctx, params, SUSPEND_ENTITLEMENT)
    ctx.state.change_stage(Stage.OPERATIONAL, Stage.SUSPENDED)
    return NO_RESULT


def resume(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    _authorize(ctx, params, SUSPEND_ENTITLEMENT)
    ctx.state.change_stage(Stage.SUSPENDED, Stage.OPERATIONAL)
    return NO_RESULT


def shutdown(ctx: CommandContext, params: Mapping[Any, Any] | None) -> Any:
    _authorize(ctx, params, SHUTDOWN_ENTITLEMENT)
    if not ctx.state.shutdown_enabled:
        raise ProtocolError(
            ErrorCode.ACCESS_DENIED,
            "shutdown is disabled on this server (the operator can enable it with --allow-shutdown)",
        )
    if ctx.state.stage not in (Stage.OPERATIONAL, Stage.SUSPENDED):
        raise ProtocolError(
            ErrorCode.INVALID_STAGE_CHANGE_REQUEST, f"cannot shut down from stage {ctx.state.stage.name.lower()}"
        )
    ctx.state.change_stage(ctx.state.stage, Stage.SHUTDOWN)
    return NO_RESULT
