"""The kit's parts: EDN rendering, the pattern language, the vector file, the report and the command line."""

from __future__ import annotations

import asyncio
import io
import json
import math
import socket
import sys
import uuid

import pytest
from cbor2 import CBORSimpleValue, CBORTag, undefined
from hypothesis import given
from hypothesis import strategies as st
from support.conformance import FaultProxy, served_model, wrong_unsubscribe_error
from support.fixtures import SAMPLE_CONFIG

from xentara_ws.cli import build_parser
from xentara_ws.conformance.edn import render, render_message
from xentara_ws.conformance.patterns import PatternError, match, materialize
from xentara_ws.conformance.report import Reporter, json_report
from xentara_ws.conformance.runner import LOGIC_CASES, CaseResult, Outcome, all_cases, load_vectors, selected
from xentara_ws.conformance.wire import WireError, decode_raw, encode

EVENT_HEX = (
    "81830800a300d825509b8ddaaec8ea4a8cb5754237bde328be01d82550e3ee10714d884ba18e5d0f1e4ce25ee802a30bd879fb4045"
    "40000000000009d8790007d879d903e9a104c482281b17a634b75ab2088f"
)


# -- EDN -------------------------------------------------------------------------------------------


def test_the_reference_event_renders_as_the_reference_writes_it():
    assert render(decode_raw(bytes.fromhex(EVENT_HEX))) == (
        "[[8, 0, {0: 37(h'9b8ddaaec8ea4a8cb5754237bde328be'), 1: 37(h'e3ee10714d884ba18e5d0f1e4ce25ee8'), "
        "2: {11: 121(42.5), 9: 121(0), 7: 121(1001({4: 4([-9, 1704107471111587983])}))}}]]"
    )


@pytest.mark.parametrize(
    ("item", "edn"),
    [
        (None, "null"),
        (undefined, "undefined"),
        (True, "true"),
        (-32700, "-32700"),
        (2.0, "2.0"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (1e300, "1e+300"),
        ('a "quoted"\\ line\n\x01', '"a \\"quoted\\"\\\\ line\\n\\u0001"'),
        (b"\x00\xff", "h'00ff'"),
        (CBORSimpleValue(99), "simple(99)"),
        ({}, "{}"),
        ([], "[]"),
        (CBORTag(123, {0: "u", 1: "p"}), '123({0: "u", 1: "p"})'),
    ],
)
def test_edn_of_each_kind_of_item(item, edn):
    assert render(item) == edn


def test_a_message_that_is_not_cbor_is_shown_as_hex_and_a_text_frame_as_text():
    assert render_message(b"\x1c", decoded=False) == "h'1c' (not one well-formed CBOR item)"
    assert render_message("[[0, 1, 8]]") == 'text frame "[[0, 1, 8]]"'
    assert render_message(None) == "(nothing)"
    assert render_message(b"x", "y" * 5000, limit=50).endswith("…")


def test_the_raw_decoder_keeps_tags_as_sent_and_refuses_trailing_bytes():
    item = decode_raw(encode([CBORTag(1, 5), CBORTag(4, [-9, 7]), CBORTag(37, b"\x01\x02"), uuid.UUID(int=5)]))
    assert item == [CBORTag(1, 5), CBORTag(4, [-9, 7]), CBORTag(37, b"\x01\x02"), uuid.UUID(int=5)]
    with pytest.raises(WireError):
        decode_raw(bytes.fromhex("81830001080000"))
    with pytest.raises(WireError):
        decode_raw(b"\x1c")
    assert encode(2.5, shortest_floats=True) == bytes.fromhex("f94100")


# -- patterns --------------------------------------------------------------------------------------


def test_literals_match_exactly_with_their_type():
    assert match(1, 1, {}) is None
    assert match(1, 1.0, {}) is not None
    assert match(1, True, {}) is not None
    assert match([1, 2], [1, 2, 3], {}) == "$: expected 2 items, got 3"
    assert match({"0": 1}, {0: 1, 1: 2}, {}) is not None


def test_an_error_pattern_wants_a_listed_code_and_a_message_text():
    assert match({"$error": -32000}, {0: -32000, 1: "missing client hello request"}, {}) is None
    assert "expected error code -32000" in match({"$error": -32000}, {0: -32602, 1: "x"}, {})
    assert match({"$error": [-32103, -32102]}, {0: -32102, 1: "x"}, {}) is None
    assert match({"$error": -32000}, {0: -32000}, {}) is not None  # spec 10.5: always include key 1
    assert match({"$error": -32000}, {0: -32000, 1: 5}, {}) is not None


def test_a_time_stamp_pattern_accepts_the_ns_form_and_the_ends_of_time_only():
    ns = CBORTag(1001, {4: CBORTag(4, [-9, 1704107471111587983])})
    assert match({"$timestamp": "ns"}, ns, {}) is None
    assert match({"$timestamp": "ns"}, CBORTag(1001, {1: -math.inf}), {}) is None
    assert match({"$timestamp": "ns"}, CBORTag(1001, {4: CBORTag(4, [-3, 1704107471111])}), {}) is not None
    assert match({"$timestamp": "ns"}, CBORTag(1, 1704107471.1), {}) is not None
    assert match({"$timestamp": "ns"}, CBORTag(1001, {1: 1704107471}), {}) is not None


def test_variables_are_bound_and_compared():
    variables = {}
    session = uuid.uuid4()
    assert match([1, 1, {"$bind": "s"}], [1, 1, session], variables) is None
    assert match({"$var": "s"}, session, variables) is None
    assert match({"$var": "s"}, uuid.uuid4(), variables) is not None
    assert materialize({"0": {"$var": "s"}, "1": {"$new_uuid": "t"}}, variables) == {0: session, 1: variables["t"]}
    with pytest.raises(KeyError):
        materialize({"$var": "nothing"}, variables)


def test_compound_patterns():
    key = uuid.uuid4()
    variables = {"k": key}
    assert match({"$map_keys": [[{"$var": "k"}, {"$tag": 121}]]}, {key: CBORTag(121, 1)}, variables) is None
    assert match({"$map_keys": [[{"$var": "k"}, {"$tag": 121}]]}, {key: CBORTag(122, 1)}, variables) is not None
    assert match({"$array_of": {"$uint": [0, 3]}, "min": 1}, [0, 3], {}) is None
    assert match({"$array_of": {"$uint": [0, 3]}, "min": 1}, [], {}) is not None
    assert match({"$array_of": {"$uint": None}, "max": 1}, [1, 2], {}) is not None
    assert match({"$one_of": [{"$text": None}, {"$uuid": None}]}, key, {}) is None
    assert match({"$map": {"0": 1}, "open": True}, {0: 1, 5: 2}, {}) is None
    assert match({"$map": {"0": 1}}, {0: 1, 5: 2}, {}) is not None
    assert match({"$bool": None}, 1, {}) is not None
    assert match({"$int": None}, True, {}) is not None
    with pytest.raises(PatternError):
        match({"$nonsense": 1}, 1, {})


def test_templates_build_what_json_cannot_spell():
    built = materialize(
        [
            {"$uuid": "e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8"},
            {"$tag": 37, "value": {"$bytes": "0102"}},
            {"$float": "-Infinity"},
        ],
        {},
    )
    assert built == [uuid.UUID("e3ee1071-4d88-4ba1-8e5d-0f1e4ce25ee8"), CBORTag(37, b"\x01\x02"), -math.inf]


# -- the vector file -------------------------------------------------------------------------------

SAMPLE_VARIABLES = {
    "readable": uuid.uuid4(),
    "readable_key": "A.B",
    "time_attribute": 7,
    "unknown_uuid": uuid.uuid4(),
    "user": "u",
    "password": "p",
    "token": "t",
    "write_only_element": uuid.uuid4(),
    "write_only_attribute": 11,
}


def test_the_vector_file_is_package_data_and_every_case_is_well_formed():
    data = load_vectors()
    ids = [c["id"] for c in data["cases"]] + [c["id"] for c in data["logic_cases"]]
    assert len(ids) == len(set(ids)) >= 90
    assert {c["id"] for c in data["logic_cases"]} == set(LOGIC_CASES)
    for case in data["logic_cases"]:
        assert case["procedure"], case["id"]
    for case in data["cases"] + data["logic_cases"]:
        assert case["section"].startswith(("§", "ext")), case["id"]
        assert case["title"] and case["unit"], case["id"]
    for case in data["cases"]:
        assert case.get("connection", "shared") in ("shared", "fresh", "no_hello"), case["id"]
        for step in case["steps"]:
            sends = [k for k in step if k.startswith("send")]
            assert len(sends) == 1 and "expect" in step, case["id"]
            if "send" in step:
                encode(materialize(step["send"], dict(SAMPLE_VARIABLES, session=uuid.uuid4())))
            match(step["expect"], object(), dict(SAMPLE_VARIABLES, session=uuid.uuid4(), desired=uuid.uuid4()))


def test_the_reference_hex_vectors_are_what_the_vectors_send():
    hello = next(c for c in load_vectors()["cases"] if c["id"] == "hello.accepts_version_1")
    assert encode(materialize(hello["steps"][0]["send"], {})).hex() == "818400010ea200010101"  # spec App. B
    assert match(hello["steps"][0]["expect"], decode_raw(bytes.fromhex("81830101a10001")), {}) is None


def test_only_selects_by_glob_or_prefix_and_extensions_only_when_asked():
    cases = all_cases()
    assert {c.id for c in selected(cases, ["hello."], False)} >= {"hello.required", "hello.duplicate"}
    assert all(c.id.startswith("read.") for c in selected(cases, ["read.*"], False))
    assert not [c for c in selected(cases, [], False) if c.extension]
    assert {c.id for c in selected(cases, ["extensions."], True)} >= {"extensions.ping", "extensions.json_ping"}


# -- report ----------------------------------------------------------------------------------------


def results() -> list[CaseResult]:
    return [
        CaseResult("hello.required", "Hello gating", "§5", "t1", Outcome.PASS),
        CaseResult(
            "read.x", "read", "§5.4", "t2", Outcome.FAIL, "step 1: $[0][0]: expected 1", "[[0, 1, 4]]", "[[2, 1]]"
        ),
        CaseResult("sub.token", "Sub-sessions", "§5.12", "t3", Outcome.NA, "needs --token"),
    ]


def test_a_terminal_gets_a_progress_bar_and_a_table_grouped_by_unit():
    out = io.StringIO()
    reporter = Reporter(out, tty=True)
    for index, result in enumerate(results(), 1):
        reporter.progress(index, 3, result)
    reporter.summary(results(), "wss://h/api/ws")
    text = out.getvalue()
    assert "[" + "#" * 40 + "] 3/3" in text
    assert "\nHello gating\n" in text and "\nSub-sessions\n" in text
    assert "needs --token" in text
    assert "FAIL read.x — t2 (§5.4)" in text and "sent:     [[0, 1, 4]]" in text and "received: [[2, 1]]" in text
    assert "1 passed, 1 failed, 1 not applicable, of 3 cases" in text


def test_a_pipe_gets_one_plain_line_per_case():
    out = io.StringIO()
    reporter = Reporter(out, tty=False)
    for index, result in enumerate(results(), 1):
        reporter.progress(index, 3, result)
    lines = out.getvalue().splitlines()
    assert lines == ["PASS hello.required (§5)", "FAIL read.x (§5.4)", "N/A  sub.token (§5.12)"]
    assert "\x1b" not in out.getvalue()


def test_the_json_report_counts_and_lists_every_case():
    report = json_report(results(), "wss://h/api/ws")
    assert report["summary"] == {"passed": 1, "failed": 1, "not_applicable": 1, "total": 3}
    assert report["results"][1]["sent"] == "[[0, 1, 4]]"
    assert report["results"][2]["outcome"] == "N/A"


# -- the command line ------------------------------------------------------------------------------


async def conformance(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "xentara_ws",
        "conformance",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def test_the_subcommand_is_registered_with_its_options():
    args = build_parser().parse_args(
        ["conformance", "wss://h:1/api/ws", "--writable", "--only", "read.", "--extensions"]
    )
    assert args.url == "wss://h:1/api/ws" and args.writable == "auto" and args.only == ["read."] and args.extensions
    assert build_parser().parse_args(["conformance", "ws://h/api/ws", "--writable", "A.B"]).writable == "A.B"


async def test_exit_code_0_and_a_json_report_when_nothing_fails(tmp_path):
    report = tmp_path / "report.json"
    async with served_model(SAMPLE_CONFIG / "model.json") as server:
        code, out, err = await conformance(
            f"ws://127.0.0.1:{server.port}/api/ws", "--only", "lookup.", "--only", "hello.*", "--json", str(report)
        )
    assert code == 0, out + err
    assert "PASS lookup.found (§5.3)" in out
    data = json.loads(report.read_text())
    assert data["summary"]["failed"] == 0 and data["summary"]["passed"] == data["summary"]["total"] >= 10


async def test_exit_code_1_with_the_packets_in_edn_when_a_case_fails():
    async with (
        served_model(SAMPLE_CONFIG / "model.json") as server,
        FaultProxy(f"ws://127.0.0.1:{server.port}/api/ws", to_client=wrong_unsubscribe_error) as proxy,
    ):
        code, out, _ = await conformance(proxy.url, "--only", "unsubscribe.unknown")
    assert code == 1
    assert "FAIL unsubscribe.unknown" in out
    assert "expected error code -32110, got -32602" in out
    assert "sent:     [[0, 1, 7, {0: 37(h'" in out
    assert "received: [[2, 1, {0: -32602, 1: " in out


async def test_exit_code_2_when_the_server_cannot_be_reached_or_the_call_is_wrong():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = await conformance(f"ws://127.0.0.1:{port}/api/ws")
    assert code == 2 and "cannot test" in err
    code, _, err = await conformance("http://127.0.0.1/api/ws")
    assert code == 2 and "ws:// or wss://" in err
    code, _, err = await conformance("ws://127.0.0.1:1/api/ws", "--user", "u", "--token", "t")
    assert code == 2
    async with served_model(SAMPLE_CONFIG / "model.json") as server:
        code, _, err = await conformance(f"ws://127.0.0.1:{server.port}/api/ws", "--only", "no-such-case")
        assert code == 2 and "no case matches" in err
        code, _, err = await conformance(f"ws://127.0.0.1:{server.port}/api/ws", "--element", "No.Such.Element")
        assert code == 2 and "No.Such.Element" in err


cbor_items = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.uuids(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.integers(0, 300) | st.text(max_size=5), children, max_size=4)
        | st.builds(CBORTag, st.sampled_from([1, 4, 121, 122, 123, 1001, 4000]), children)
    ),
    max_leaves=20,
)


@given(cbor_items)
def test_any_item_survives_the_raw_round_trip_and_renders_as_edn(item):
    decoded = decode_raw(encode(item))
    assert decoded == item
    assert isinstance(render(decoded), str)
