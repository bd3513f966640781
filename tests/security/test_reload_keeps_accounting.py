"""A reload of the security files must not forgive failed logins (issue 14 item 4 with issue 15 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xentara_ws.demo import DEMO_PASSWORD, DEMO_USER
from xentara_ws.security.authentication import AuthenticationFailed
from xentara_ws.server.options import ServeOptions
from xentara_ws.server.security_setup import configure_security
from xentara_ws.server.serve_plan import ServePlan

DEMO = Path(__import__("xentara_ws.demo", fromlist=["x"]).__file__).parent


def _generation(previous=None):
    plan = ServePlan(model_path=DEMO / "model.json", config_dir=DEMO, host="127.0.0.1", port=0, demo=False)
    configure_security(plan, ServeOptions(tls=False), previous=previous)
    return plan.sub_session_authenticator


async def test_a_locked_out_user_stays_locked_out_after_a_reload():
    first = _generation()
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            await first.authenticate_password(DEMO_USER, "wrong", "127.0.0.9")
    second = _generation(previous=first)
    with pytest.raises(AuthenticationFailed) as refused:
        await second.authenticate_password(DEMO_USER, DEMO_PASSWORD, "127.0.0.9")
    assert refused.value.status == 429
    # Another address is not affected.
    assert await second.authenticate_password(DEMO_USER, DEMO_PASSWORD, "127.0.0.10") is not None
    first.close()
