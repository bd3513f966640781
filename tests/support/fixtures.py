"""Where the vendor's fixtures are, and what happens to the tests that need them when they are not there.

The vendor fixtures (Xentara's sample configuration, its JSON schemas and two model files) are not part
of this repository: they live in `../shared/fixtures` next to the clone, or wherever `XENTARA_FIXTURES`
points. Tests that need them carry the `vendor_fixtures` marker (`pytestmark = needs_vendor_fixtures` in a
module, or the decorator on one test). When the folder is missing those tests are skipped with one
reason; with `XENTARA_REQUIRE_FIXTURES=1` (as `.ci/run` sets) the whole run fails instead.

This module is also a pytest plugin (`tests/conftest.py` re-exports its hooks). Nothing here reads a
fixture file at import time: the paths are only paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV_VAR = "XENTARA_FIXTURES"
REQUIRE_ENV_VAR = "XENTARA_REQUIRE_FIXTURES"
MARKER = "vendor_fixtures"


def fixtures_dir() -> Path:
    """`$XENTARA_FIXTURES`, else `../shared/fixtures` beside the repository (never the working directory)."""
    value = os.environ.get(ENV_VAR)
    return Path(value).resolve() if value else (REPO.parent / "shared" / "fixtures").resolve()


FIXTURES = fixtures_dir()
SAMPLE_CONFIG = FIXTURES / "xentara-sample-config"
SCHEMAS = FIXTURES / "xentara-schemas"
MODELS = FIXTURES / "models"
MODEL_SCHEMA = SCHEMAS / "schema-xentara-model.json"
SAMPLE_MODEL = SAMPLE_CONFIG / "model.json"
DEMO_SIGNALS = MODELS / "xentara-demo-signals.json"
WAGO_MODEL = MODELS / "wago-8di8do.json"
# The fixture models by name; a list, not a glob, so that collection reads nothing from the folder.
FIXTURE_MODELS = (DEMO_SIGNALS, WAGO_MODEL, SAMPLE_MODEL)

needs_vendor_fixtures = pytest.mark.vendor_fixtures


def available() -> bool:
    """Whether the vendor fixtures are there (the sample configuration's credentials file is the witness)."""
    return (SAMPLE_CONFIG / "client-credentials.json").is_file() and SCHEMAS.is_dir()


def required() -> bool:
    return os.environ.get(REQUIRE_ENV_VAR, "").strip() not in ("", "0", "false", "no")


def missing_reason() -> str:
    return (
        f"vendor fixtures not found at {FIXTURES}: set {ENV_VAR} to the folder holding "
        "xentara-sample-config/, xentara-schemas/ and models/ (see the README, 'Running the tests')"
    )


def sample_password() -> str:
    """The sample configuration's WebSocket password (read when a test asks, not at import)."""
    import json

    credentials = json.loads((SAMPLE_CONFIG / "client-credentials.json").read_text())
    return str(credentials["websocket"]["password"])


# -- pytest hooks ------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: the test needs the vendor fixtures (see tests/support/fixtures.py)")
    if required() and not available():
        raise pytest.UsageError(f"{missing_reason()}; {REQUIRE_ENV_VAR} is set, so the run fails")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if available():
        return
    skip = pytest.mark.skip(reason=missing_reason())
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if available():
        return
    reason = missing_reason()
    skipped = [
        report for report in terminalreporter.stats.get("skipped", []) if reason in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests skipped: {reason}")
