"""Reloading the security files of a running server: on SIGHUP, and when they change on disk.

The gatekeeper, the access policy and the sub-session authenticator handed to the server are thin
delegates of one `LiveSecurity` holder. A reload builds a complete new set from the files (exactly as
`serve` does at start, validation included) in a worker thread, then swaps the holder's reference on
the event loop in one assignment: a request sees either the old set or the new one, never a mix. When
the new files are invalid, the old set stays and the error (naming the file) is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# The files whose changes a running server picks up (config.json's port and model.json are not among them).
WATCHED_FILES = ("users.json", "passwords.json", "security.json", "oauth2.json", "client-certs.json")
DEFAULT_INTERVAL = 1.0

Signature = tuple[tuple[str, int, int, int] | None, ...]


@dataclass(frozen=True, slots=True)
class SecuritySet:
    """One consistent generation of the security objects."""

    gatekeeper: Any
    access: Any
    authenticator: Any


class LiveSecurity:
    """Holds the current SecuritySet; `swap` replaces it as a whole."""

    def __init__(self, current: SecuritySet) -> None:
        self.current = current
        self.generation = 0

    def swap(self, new: SecuritySet) -> None:
        self.current = new
        self.generation += 1


class _Delegate:
    """Forwards every attribute to one member of the holder's current set (looked up on each use)."""

    def __init__(self, live: LiveSecurity, member: str) -> None:
        self._live = live
        self._member = member

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(self._live.current, self._member), name)


def delegates(live: LiveSecurity) -> tuple[Any, Any, Any]:
    """(gatekeeper, access, authenticator) stand-ins that always use the holder's current set."""
    return _Delegate(live, "gatekeeper"), _Delegate(live, "access"), _Delegate(live, "authenticator")


def signature(config_dir: Path) -> Signature:
    """What identifies the watched files' contents cheaply: inode, size and modification time, or None if absent."""
    out: list[tuple[str, int, int, int] | None] = []
    for name in WATCHED_FILES:
        try:
            st = os.stat(config_dir / name)
        except OSError:
            out.append(None)
            continue
        out.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


class SecurityReloader:
    """Watches a configuration folder and swaps `live` to a freshly built set when its files change.

    `build` reads and validates the files and returns a new SecuritySet, or raises with a message that
    names the file; it runs in a worker thread (file reads, schema validation), never on the event loop.
    """

    def __init__(
        self,
        config_dir: Path,
        live: LiveSecurity,
        build: Callable[[], SecuritySet],
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.config_dir = config_dir
        self.live = live
        self.build = build
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._signature: Signature | None = None

    async def start(self) -> None:
        self._signature = await asyncio.to_thread(signature, self.config_dir)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        self._task = asyncio.create_task(self._run())

    def request_reload(self) -> None:
        """Reload now (what SIGHUP does)."""
        self._wake.set()

    async def close(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            forced = False
            if self.interval > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                    forced = True
            else:
                await self._wake.wait()
                forced = True
            self._wake.clear()
            current = await asyncio.to_thread(signature, self.config_dir)
            if not forced and current == self._signature:
                continue
            self._signature = current
            await self.reload("SIGHUP" if forced else "the files changed")

    async def reload(self, why: str) -> bool:
        """Build a new set and swap it in; on failure keep the old one. True if swapped."""
        try:
            new = await asyncio.to_thread(self.build)
        except Exception as error:  # any failure of the new files must leave the running server as it was
            logger.error(
                "reloading the security configuration of %s (%s) failed; keeping the previous one:\n%s",
                self.config_dir,
                why,
                error,
            )
            return False
        self.live.swap(new)
        logger.info("reloaded the security configuration of %s (%s)", self.config_dir, why)
        return True
