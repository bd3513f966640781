"""Wiring the configuration folder's security files into a ServePlan (TLS, admission, ACLs)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bootstrap import ServePlan


def configure_security(plan: ServePlan, args: argparse.Namespace) -> None:
    from ..demo import DEMO_PASSWORD, DEMO_USER

    if plan.demo:
        plan.notes.append(f"demo user: {DEMO_USER}  password: {DEMO_PASSWORD}")
