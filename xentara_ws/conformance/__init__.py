"""A portable conformance kit for the Xentara WebSocket API v2: `xentara-ws conformance URL`.

The cases live as data in `vectors.json` (request packets and reply patterns, reusable by other
implementations); `runner` executes them over a real connection, plus the few cases that need logic.
"""

from .runner import CaseResult, Outcome, RunOptions, run_suite

__all__ = ["CaseResult", "Outcome", "RunOptions", "run_suite"]
