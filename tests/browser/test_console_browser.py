"""The console in real Chromium: log in, watch a live value, write, be refused, log out; no cross-site use."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from support.console import serve_html
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from xentara_ws.console.login import COOKIE_NAME
from xentara_ws.demo import DEMO_PASSWORD, DEMO_USER, OPERATOR_PASSWORD, OPERATOR_USER
from xentara_ws.protocol.identifiers import Attribute
from xentara_ws.server.app import XentaraServer

# The README's pictures are refreshed with XENTARA_UPDATE_SCREENSHOTS=1; every other run takes them into a
# scratch folder, so a test run never leaves the committed files modified.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("XENTARA_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "xentara-ws-screenshots"
)
TEMPERATURE = "Plant.Tank.Temperature"
SETPOINT = "Plant.Line.Setpoint"


def base_url(server: XentaraServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def log_in(page: Any, server: XentaraServer, user: str, password: str) -> None:
    await page.goto(base_url(server) + "/")
    await page.get_by_test_id("login-user").fill(user)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()


async def open_element(page: Any, primary_key: str) -> None:
    await page.get_by_test_id("search-key").fill(primary_key)
    await page.get_by_test_id("search-go").click()
    await page.get_by_test_id("element-key").filter(has_text=primary_key).wait_for()


async def console_cookie(context: Any) -> str | None:
    for cookie in await context.cookies():
        if cookie["name"] == COOKIE_NAME:
            return str(cookie["value"])
    return None


async def test_a_wrong_password_is_refused(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, "not the password")
    error = page.get_by_test_id("login-error")
    await error.wait_for()
    assert "wrong user name" in await error.inner_text()
    assert await console_cookie(browser_context) is None
    assert await page.get_by_test_id("logout").count() == 0


async def test_log_in_and_watch_a_live_signal(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)
    assert await page.get_by_test_id("user").inner_text() == DEMO_USER
    cookie = next(c for c in await browser_context.cookies() if c["name"] == COOKIE_NAME)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"

    # Browse lazily down the tree to the signal.
    for key in ("Plant", "Plant.Tank"):
        node = page.locator(f'[data-testid="tree-node"][data-key="{key}"]')
        await node.locator("xpath=..").get_by_role("button", name="expand").click()
    await page.locator(f'[data-testid="tree-node"][data-key="{TEMPERATURE}"]').wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "console-tree.png"))
    await page.locator(f'[data-testid="tree-node"][data-key="{TEMPERATURE}"]').click()

    value = page.get_by_test_id("value-value")
    await value.filter(has_text=".").wait_for()
    first = await value.inner_text()
    # The simulated sine wave moves every 100 ms: the subscription must bring a new value.
    await page.wait_for_function(
        "first => document.querySelector('[data-testid=\"value-value\"]').textContent !== first", arg=first
    )
    assert await page.get_by_test_id("quality").inner_text() == "Good"
    await page.get_by_test_id("trend").wait_for()
    await page.wait_for_timeout(1500)  # a few more points on the trend for the picture
    await page.screenshot(path=str(SCREENSHOTS / "console-element.png"))


async def test_a_write_round_trips(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)
    await open_element(page, SETPOINT)
    form = page.get_by_test_id("write-value")
    await form.locator("input").fill("42.25")
    await form.get_by_role("button", name="Write").click()
    await form.get_by_test_id("write-outcome").filter(has_text="written").wait_for()
    await page.get_by_test_id("value-value").filter(has_text="42.25").wait_for()
    element = demo_server.model.element(SETPOINT)
    assert element.read(element.attribute(int(Attribute.VALUE))) == 42.25  # what the server holds now


async def test_a_read_only_user_is_refused_a_write(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, OPERATOR_USER, OPERATOR_PASSWORD)
    await open_element(page, SETPOINT)
    # The console offers no write form to a login without write access...
    await page.get_by_test_id("read-only-value").wait_for()
    assert await page.get_by_test_id("write-value").count() == 0
    before = await page.get_by_test_id("value-value").inner_text()
    # ...and a write sent anyway, over this page's own logged-in WebSocket, is refused by the server.
    outcome = await page.evaluate(
        """async key => {
             const { XentaraConnection } = await import("/console/xentara.js");
             const connection = await XentaraConnection.open();
             try {
               const uuid = await connection.lookup(key);
               await connection.write(uuid, 11, 99.5);
               return "written";
             } catch (error) { return String(error.code); } finally { connection.close(); }
           }""",
        SETPOINT,
    )
    assert outcome == "-32102"
    element = demo_server.model.element(SETPOINT)
    assert element.read(element.attribute(int(Attribute.VALUE))) != 99.5
    assert await page.get_by_test_id("value-value").inner_text() == before


async def test_logout_ends_the_session(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)
    await page.get_by_test_id("user").wait_for()
    cookie = await console_cookie(browser_context)
    assert cookie is not None
    await page.get_by_test_id("logout").click()
    await page.get_by_test_id("login-form").wait_for()
    assert await console_cookie(browser_context) is None
    await page.reload()
    await page.get_by_test_id("login-form").wait_for()  # not logged in again by anything left behind
    # The old cookie value is dead on the server too, even from the right origin.
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"ws://127.0.0.1:{demo_server.port}/api/ws",
            additional_headers={"Cookie": f"{COOKIE_NAME}={cookie}", "Origin": base_url(demo_server)},
        )
    assert refused.value.response.status_code == 401


ATTACKER_PAGE = """<!doctype html><title>elsewhere</title><p id="outcome">pending</p>
<script>
const socket = new WebSocket("ws://127.0.0.1:PORT/api/ws");
socket.onopen = () => { document.getElementById("outcome").textContent = "opened"; };
socket.onerror = () => { document.getElementById("outcome").textContent = "refused"; };
</script>"""


async def test_a_page_of_another_origin_cannot_use_the_console_cookie(
    browser_context: Any, demo_server: XentaraServer, caplog: pytest.LogCaptureFixture
) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)
    await page.get_by_test_id("user").wait_for()
    # The console's own page opens /api/ws with the cookie...
    opened = await page.evaluate(
        """() => new Promise(done => { const s = new WebSocket(`ws://${location.host}/api/ws`);
             s.onopen = () => { s.close(); done("opened"); }; s.onerror = () => done("refused"); })"""
    )
    assert opened == "opened"
    # ...a page served from another loopback port (same site, so Chromium sends the cookie) cannot.
    attacker, port = await serve_html(ATTACKER_PAGE.replace("PORT", str(demo_server.port)))
    try:
        with caplog.at_level(logging.WARNING, logger="xentara_ws.console.login"):
            other = await browser_context.new_page()
            await other.goto(f"http://127.0.0.1:{port}/")
            await other.locator("#outcome").filter(has_text="refused").wait_for()
        assert any("console session cookie sent from origin" in record.getMessage() for record in caplog.records)
    finally:
        attacker.close()
        await attacker.wait_closed()


async def test_an_hmi_folder_is_served_at_the_root_and_its_page_uses_the_login(
    browser_context: Any, hmi_server: tuple[XentaraServer, Path]
) -> None:
    server, folder = hmi_server
    (folder / "index.html").write_text(
        '<!doctype html><title>My HMI</title><p id="state">starting</p><script src="hmi.js"></script>'
    )
    (folder / "hmi.js").write_text(
        "const s = new WebSocket(`ws://${location.host}/api/ws`);\n"
        's.onopen = () => { document.getElementById("state").textContent = "connected"; };\n'
        's.onerror = () => { document.getElementById("state").textContent = "refused"; };\n'
    )
    page = await browser_context.new_page()
    await page.goto(base_url(server) + "/console/")
    await page.get_by_test_id("login-user").fill(DEMO_USER)
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("user").wait_for()
    await page.goto(base_url(server) + "/")
    assert await page.title() == "My HMI"
    await page.locator("#state").filter(has_text="connected").wait_for()


async def test_the_sub_sessions_page_shows_and_deletes_the_console_login(
    browser_context: Any, demo_server: XentaraServer
) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)
    await page.get_by_test_id("user").wait_for()
    await page.goto(base_url(demo_server) + "/#/sessions")
    row = page.locator("tr", has_text=f"user:{DEMO_USER}")
    await row.wait_for()
    await row.get_by_role("button", name="Describe").click()
    await page.locator("dl.description", has_text=f"console login of {DEMO_USER}").wait_for()
    await row.get_by_role("button", name="Delete").click()
    await page.locator(".note", has_text="delete: done").wait_for()
    await page.reload()
    await page.get_by_test_id("login-form").wait_for()  # the deleted sub-session was this browser's login


async def test_over_tls_the_cookie_is_secure_and_the_console_works(
    browser_context: Any, tls_server: XentaraServer
) -> None:
    page = await browser_context.new_page()
    await page.goto(f"https://127.0.0.1:{tls_server.port}/")
    await page.get_by_test_id("login-user").fill(DEMO_USER)
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("user").wait_for()
    cookie = next(c for c in await browser_context.cookies() if c["name"] == COOKIE_NAME)
    assert cookie["secure"] is True
    await open_element(page, TEMPERATURE)
    await page.get_by_test_id("quality").wait_for()  # values arrive over wss:// with the cookie


async def test_the_server_page_suspends_and_resumes(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, DEMO_USER, DEMO_PASSWORD)  # the demo user holds the suspend entitlement
    await page.get_by_test_id("user").wait_for()
    await page.goto(base_url(demo_server) + "/#/stage")
    stage = page.get_by_test_id("stage")
    await stage.filter(has_text="Operational").wait_for()
    await page.get_by_role("button", name="Suspend").click()
    await stage.filter(has_text="Suspended").wait_for()
    await page.get_by_role("button", name="Resume").click()
    await stage.filter(has_text="Operational").wait_for()
    await page.get_by_test_id("stage-note").filter(has_text="resume: done").wait_for()


async def test_the_server_page_shows_a_refused_suspend(browser_context: Any, demo_server: XentaraServer) -> None:
    page = await browser_context.new_page()
    await log_in(page, demo_server, OPERATOR_USER, OPERATOR_PASSWORD)
    await page.get_by_test_id("user").wait_for()
    await page.goto(base_url(demo_server) + "/#/stage")
    await page.get_by_test_id("stage").filter(has_text="Operational").wait_for()
    await page.get_by_role("button", name="Suspend").click()
    await page.get_by_test_id("stage-note").filter(has_text="access denied").wait_for()
    assert await page.get_by_test_id("stage").inner_text() == "Operational"
