"""How results are shown: a progress bar and a table on a terminal, plain lines otherwise, JSON on request."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .runner import CaseResult, Outcome


class Reporter:
    """Receives each result as it is produced and prints the summary at the end."""

    def __init__(self, out: TextIO, *, tty: bool | None = None) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.width = shutil.get_terminal_size((100, 24)).columns if self.tty else 100

    def progress(self, done: int, total: int, result: CaseResult) -> None:
        if self.tty:
            bar_width = max(10, min(40, self.width - 40))
            filled = bar_width * done // total
            label = result.id[: self.width - bar_width - 20]
            self.out.write(f"\r[{'#' * filled}{'.' * (bar_width - filled)}] {done}/{total} {label}\x1b[K")
            self.out.flush()
        else:
            self.out.write(f"{result.outcome.value:4} {result.id} ({result.section})\n")
            self.out.flush()

    def summary(self, results: Sequence[CaseResult], url: str) -> None:
        if self.tty:
            self.out.write("\r\x1b[K")
            self._table(results)
        failed = [r for r in results if r.outcome is Outcome.FAIL]
        for result in failed:
            self.out.write(f"\nFAIL {result.id} — {result.title} ({result.section})\n")
            self.out.write(textwrap.indent(result.detail, "  ") + "\n")
            if result.sent:
                self.out.write(f"  sent:     {result.sent}\n")
            if result.received:
                self.out.write(f"  received: {result.received}\n")
        counts = Counter(r.outcome for r in results)
        self.out.write(
            f"\n{url}: {counts[Outcome.PASS]} passed, {counts[Outcome.FAIL]} failed, "
            f"{counts[Outcome.NA]} not applicable, of {len(results)} cases\n"
        )

    def _table(self, results: Sequence[CaseResult]) -> None:
        id_width = max((len(r.id) for r in results), default=10)
        section_width = min(24, max((len(r.section) for r in results), default=8))
        unit = None
        for result in results:
            if result.unit != unit:
                unit = result.unit
                self.out.write(f"\n{unit}\n")
            mark = {Outcome.PASS: "\x1b[32mPASS\x1b[0m", Outcome.FAIL: "\x1b[31mFAIL\x1b[0m", Outcome.NA: "N/A "}
            note = result.detail.splitlines()[0] if result.outcome is Outcome.NA and result.detail else ""
            line = (
                f"  {mark[result.outcome]}  {result.id:<{id_width}}  {result.section[:section_width]:<{section_width}}"
            )
            room = self.width - id_width - section_width - 14
            if note and len(note) > room:
                # A reason that does not fit goes on its own line rather than being cut.
                self.out.write(
                    line + "\n" + textwrap.indent(textwrap.fill(note, max(40, self.width - 10)), " " * 8) + "\n"
                )
            else:
                self.out.write(line + (f"  {note}" if note else "") + "\n")


def json_report(results: Sequence[CaseResult], url: str) -> dict[str, Any]:
    counts = Counter(r.outcome for r in results)
    return {
        "url": url,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": {
            "passed": counts[Outcome.PASS],
            "failed": counts[Outcome.FAIL],
            "not_applicable": counts[Outcome.NA],
            "total": len(results),
        },
        "results": [r.to_json() for r in results],
    }


def write_json(path: str, results: Sequence[CaseResult], url: str) -> None:
    Path(path).write_text(json.dumps(json_report(results, url), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
