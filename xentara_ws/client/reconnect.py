"""Reconnect policy: bounded exponential back-off between attempts, and when to give up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from .types import ConnectionFailed, XentaraError

logger = logging.getLogger(__name__)

# What a failed attempt may raise without ending the reconnecting: the server may just not be back yet.
RETRYABLE = (ConnectionFailed, XentaraError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Wait `initial_backoff` seconds before the first attempt, twice as long after each failure (at most
    `max_backoff`), and give up after `max_attempts` failures (None: never)."""

    initial_backoff: float = 0.1
    max_backoff: float = 10.0
    max_attempts: int | None = None

    def delays(self) -> Iterator[float]:
        """The wait before each attempt, in order; the iteration ends when the policy gives up."""
        delay, attempt = self.initial_backoff, 0
        while self.max_attempts is None or attempt < self.max_attempts:
            attempt += 1
            yield delay
            delay = min(delay * 2, self.max_backoff)


async def reconnect(
    policy: ReconnectPolicy, attempt: Callable[[], Awaitable[None]], *, url: str, closing: Callable[[], bool]
) -> bool:
    """Call `attempt` after each delay of the policy until it succeeds (True), the policy gives up or the
    client is closing (False)."""
    tries = 0
    for delay in policy.delays():
        if closing():
            return False
        tries += 1
        await asyncio.sleep(delay)
        try:
            await attempt()
        except RETRYABLE as error:
            logger.info("reconnect attempt %d to %s failed: %s", tries, url, error)
            continue
        logger.info("reconnected to %s", url)
        return True
    if not closing():
        logger.error("giving up reconnecting to %s after %d attempts", url, tries)
    return False
