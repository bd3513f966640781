"""What every connection shares: the model, the operational stage, access control and limits."""

from __future__ import annotations

import getpass
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..model.tree import Model
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.identifiers import Stage
from ..sessions.registry import SubSessionRegistry
from ..sessions.will import fire_will
from .access import AccessPolicy, OpenAccess, SubSessionAuthenticator
from .limits import Limits

logger = logging.getLogger(__name__)


def _account_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry for the uid (containers)
        return "unknown"


@dataclass
class ServerState:
    model: Model
    access: AccessPolicy = field(default_factory=OpenAccess)
    sub_session_authenticator: SubSessionAuthenticator | None = None
    limits: Limits = field(default_factory=Limits)
    shutdown_enabled: bool = False
    version: str = f"xentara-ws {__version__}"
    account_name: str = field(default_factory=_account_name)
    stage: Stage = Stage.OPERATIONAL
    stage_listeners: list[Callable[[Stage], None]] = field(default_factory=list)
    monotonic: Callable[[], int] = time.monotonic_ns
    """The clock of update rates and heartbeats, in nanoseconds; tests inject their own."""
    wall_clock: Callable[[], float] = time.time
    """Seconds since the epoch: sub-session time stamps and leases; tests inject their own."""
    sub_sessions: SubSessionRegistry = None  # type: ignore[assignment]
    """Every sub-session of the server (one registry per server); made in __post_init__ if not given."""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sub_sessions is None:
            self.sub_sessions = SubSessionRegistry(
                clock=lambda: self.wall_clock(),
                max_total=self.limits.max_sub_sessions_total,
                on_will=lambda session_id, will, principal: fire_will(self, session_id, will, principal),
            )

    @property
    def model_path(self) -> str:
        return self.model.path or ""

    def change_stage(self, allowed_from: Stage, to: Stage) -> None:
        """Move to `to` if the server is in `allowed_from`, else -32112."""
        if self.stage is not allowed_from:
            raise ProtocolError(
                ErrorCode.INVALID_STAGE_CHANGE_REQUEST,
                f"cannot change from stage {self.stage.name.lower()} to {to.name.lower()}",
            )
        logger.info("stage %s -> %s", self.stage.name.lower(), to.name.lower())
        self.stage = to
        for listener in self.stage_listeners:
            listener(to)
