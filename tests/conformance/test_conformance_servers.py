"""The conformance kit passes against our own server (sample configuration and demo) and catches faults."""

from __future__ import annotations

import pytest
from support.conformance import (
    FaultProxy,
    hide_proxy_hello,
    ignore_max_update_rate,
    mix_events_into_replies,
    no_initial_event,
    sample_credentials,
    seconds_time_stamps,
    served_config,
    served_model,
    skip_hello_gating,
    wrong_unsubscribe_error,
)
from support.fixtures import SAMPLE_CONFIG
from support.security import insecure_context as insecure

from xentara_ws.conformance import Outcome, RunOptions, run_suite
from xentara_ws.conformance.runner import CaseResult
from xentara_ws.conformance.transport import Target

# Cases our own server is allowed to fail: none (the suite must pass 100 % against it).
KNOWN_GAPS: frozenset[str] = frozenset()
# Extension features other streams are building: N/A (the server answers -32601 / has no POST /api) or PASS.
EXTENSIONS = frozenset(
    {
        "extensions.ping",
        "extensions.ping_empty_params",
        "extensions.ping_unknown",
        "extensions.list_sub_sessions",
        "extensions.ping_sub_session",
        "extensions.json_ping",
    }
)
TEST_REGISTER = "Semantic Sampler.Test Register"


def by_outcome(results: list[CaseResult], outcome: Outcome) -> dict[str, CaseResult]:
    return {r.id: r for r in results if r.outcome is outcome}


def explain(results: list[CaseResult]) -> str:
    return "\n".join(
        f"{r.outcome.value} {r.id}: {r.detail}\n  sent: {r.sent}\n  received: {r.received}"
        for r in results
        if r.outcome is not Outcome.PASS
    )


async def test_the_whole_suite_passes_against_the_vendor_sample_configuration(tmp_path):
    user, password = sample_credentials(SAMPLE_CONFIG)
    async with served_config(SAMPLE_CONFIG, tmp_path) as server:
        target = Target(f"wss://127.0.0.1:{server.port}/api/ws", user=user, password=password, ssl_context=insecure())
        options = RunOptions(target, writable=TEST_REGISTER, extensions=True, stages=True)
        results = await run_suite(options)
    failed = set(by_outcome(results, Outcome.FAIL)) - KNOWN_GAPS
    assert not failed, explain(results)
    not_applicable = by_outcome(results, Outcome.NA)
    # No token was given; the sample ACL grants nobody `suspend`; no attribute of the sample is write-only.
    allowed = {"sub_sessions.token", "stages.suspend_resume", "read.write_only"} | EXTENSIONS
    assert set(not_applicable) <= allowed, explain(results)
    assert "-32102" in not_applicable["stages.suspend_resume"].detail
    passed = by_outcome(results, Outcome.PASS)
    assert {"write.round_trip", "subscriptions.max_update_rate", "sub_sessions.password_life_cycle"} <= set(passed)
    assert len(passed) >= 85


async def test_the_whole_suite_passes_against_the_built_in_demo(tmp_path):
    async with served_config(None, tmp_path) as server:
        target = Target(f"wss://127.0.0.1:{server.port}/api/ws", user="demo", password="demo", ssl_context=insecure())
        results = await run_suite(RunOptions(target, writable="auto", extensions=True, stages=True))
    assert not set(by_outcome(results, Outcome.FAIL)) - KNOWN_GAPS, explain(results)
    allowed = {"sub_sessions.token", "read.write_only"} | EXTENSIONS
    assert set(by_outcome(results, Outcome.NA)) <= allowed, explain(results)
    assert "stages.suspend_resume" in by_outcome(results, Outcome.PASS)


async def test_an_open_server_with_a_write_only_register_passes_and_refuses_reading_it(server):
    # The `server` fixture: the small hand-built model, no TLS, no security (conftest.py).
    target = Target(f"ws://127.0.0.1:{server.port}/api/ws")
    results = await run_suite(RunOptions(target, writable="Group 1.Counter", stages=True))
    assert not set(by_outcome(results, Outcome.FAIL)) - KNOWN_GAPS, explain(results)
    passed = by_outcome(results, Outcome.PASS)
    assert {"read.write_only", "write.round_trip", "stages.suspend_resume"} <= set(passed)
    not_applicable = by_outcome(results, Outcome.NA)
    assert "needs --user" in not_applicable["sub_sessions.password_life_cycle"].detail
    assert "open server" in not_applicable["transport.no_credentials"].detail


async def test_without_writable_the_kit_writes_nothing_and_says_why_write_cases_are_not_applicable():
    writes = []
    async with served_model(SAMPLE_CONFIG / "model.json") as server:
        for element in server.model:
            element.on_write(lambda element, spec, value: writes.append((element, value)))
        target = Target(f"ws://127.0.0.1:{server.port}/api/ws")
        only = ["write.", "subscriptions.max_update_rate", "formats.timestamp_input"]
        results = await run_suite(RunOptions(target, only=only))
    not_applicable = by_outcome(results, Outcome.NA)
    assert {"write.round_trip", "write.type_mismatch", "subscriptions.max_update_rate"} <= set(not_applicable)
    assert "--writable" in not_applicable["write.round_trip"].detail
    assert writes == []


# -- fault injection: each deviation fails the case that checks it ---------------------------------

FAULTS = {
    "wrong error code": ({"to_client": wrong_unsubscribe_error}, "unsubscribe.unknown"),
    "missing initial event": ({"to_client": no_initial_event}, "subscriptions.initial_event"),
    "no hello gating": ({"to_server": skip_hello_gating, "to_client": hide_proxy_hello}, "hello.required"),
    "wrong time stamp form": ({"to_client": seconds_time_stamps}, "formats.timestamp_output"),
    "ignored max update rate": ({"to_server": ignore_max_update_rate}, "subscriptions.max_update_rate"),
    "events mixed into replies": ({"to_client": mix_events_into_replies}, "packaging.events_not_mixed"),
}


async def run_through_proxy(server, only, elements, **rewrites) -> list[CaseResult]:
    async with FaultProxy(f"ws://127.0.0.1:{server.port}/api/ws", **rewrites) as proxy:
        options = RunOptions(Target(proxy.url, timeout=1.5), elements=elements, writable=TEST_REGISTER, only=only)
        return await run_suite(options)


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_deliberately_broken_server_fails_the_case_that_checks_it(fault):
    rewrites, case = FAULTS[fault]
    only = [case, "hello.required_for_every_command", "read.value_quality_time", "lookup.found"]
    async with served_model(SAMPLE_CONFIG / "model.json") as server:
        # The register never changes by itself, so its first event can only be the initial one.
        elements = [TEST_REGISTER] if case == "subscriptions.initial_event" else []
        honest = await run_through_proxy(server, only, elements)
        broken = await run_through_proxy(server, only, elements, **rewrites)
    # Through a proxy that changes nothing, the same cases pass: the failure is the fault's doing.
    assert not by_outcome(honest, Outcome.FAIL), explain(honest)
    assert case in by_outcome(honest, Outcome.PASS)
    failures = by_outcome(broken, Outcome.FAIL)
    assert case in failures, explain(broken)
    assert failures[case].detail
    assert "lookup.found" in by_outcome(broken, Outcome.PASS)
