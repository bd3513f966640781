"""Names on NATS for one cluster: value subjects, the stage subject, the snapshot subject, KV buckets.

Pure code. A cluster name keeps several clusters apart on one NATS server; it is one subject token
and part of bucket names, so it is limited to letters, digits, `_` and `-`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

DEFAULT_CLUSTER_NAME = "xentara"


class ClusterNameError(ValueError):
    """A cluster or node name that cannot be used in NATS subjects and bucket names."""


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise ClusterNameError(f"{kind} {name!r}: use 1 to 64 letters, digits, '_' or '-'")
    return name


@dataclass(frozen=True, slots=True)
class Subjects:
    """Every name one cluster uses; built once per node."""

    cluster: str

    def __post_init__(self) -> None:
        check_name("cluster name", self.cluster)

    @property
    def prefix(self) -> str:
        return f"xws.{self.cluster}"

    def value(self, element_uuid: uuid.UUID) -> str:
        """Where the changes of one element are published."""
        return f"{self.prefix}.v.{element_uuid}"

    @property
    def all_values(self) -> str:
        """The wildcard every node subscribes to (see the README for why not one subject per watched element)."""
        return f"{self.prefix}.v.>"

    def element_of(self, subject: str) -> uuid.UUID:
        """The element UUID of a value subject; ValueError for anything else."""
        head, _, tail = subject.rpartition(".")
        if head != f"{self.prefix}.v":
            raise ValueError(f"{subject!r} is not a value subject of cluster {self.cluster!r}")
        return uuid.UUID(tail)

    @property
    def stage(self) -> str:
        return f"{self.prefix}.stage"

    @property
    def snapshot(self) -> str:
        """Request/reply: a starting (or reconnected) node asks the others for the current values."""
        return f"{self.prefix}.snapshot"

    @property
    def leader_bucket(self) -> str:
        """KV bucket holding the simulation lease (its TTL is the lease time)."""
        return f"xws_{self.cluster}_leader"

    @property
    def state_bucket(self) -> str:
        """KV bucket of cluster-wide settings that outlive a message (the stage)."""
        return f"xws_{self.cluster}_state"

    @property
    def nodes_bucket(self) -> str:
        """KV bucket of node heartbeats (its TTL is the time after which a silent node counts as dead)."""
        return f"xws_{self.cluster}_nodes"

    @property
    def sub_session_bucket(self) -> str:
        """KV bucket of the sub-session registry, one key per sub-session."""
        return f"xws_{self.cluster}_sub_sessions"
