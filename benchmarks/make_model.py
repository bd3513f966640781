"""Write a large model file for the start-up and browse benchmarks.

`python benchmarks/make_model.py ELEMENTS FILE` writes about ELEMENTS elements: groups of 100, each
holding 50 registers and 50 data points attached to them (so the loader resolves references too).
`python benchmarks/make_model.py --signals N FILE` writes a sampler with N generated signals that
change on every sample (every 100 ms). UUIDs are derived from the element's kind and number, so the
same arguments always give the same file.
Measure the start-up with e.g. `time python -c "from xentara_ws.model import load_model; load_model('FILE')"`.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

PER_GROUP = 100
NAMESPACE = uuid.UUID("6f1c9a52-1b8e-4f4e-9c55-2b7f1f0c9a00")


def element_uuid(kind: str, number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}{number}"))


def model(elements: int) -> dict[str, Any]:
    groups = max(1, elements // (PER_GROUP + 1))
    children = []
    for g in range(groups):
        members: list[dict[str, Any]] = []
        for r in range(PER_GROUP // 2):
            name = f"R{r}"
            members.append(
                {
                    "@Skill.SignalFlow.Register": {
                        "name": name,
                        "UUID": element_uuid("register", g * PER_GROUP + r),
                        "defaultValue": ["float64", float(r)],
                    }
                }
            )
            members.append(
                {
                    "@DataPoint": {
                        "name": f"P{r}",
                        "UUID": element_uuid("point", g * PER_GROUP + r),
                        "io": f"G{g}.{name}",
                    }
                }
            )
        children.append({"@Group": {"name": f"G{g}", "UUID": element_uuid("group", g), "children": members}})
    return {"children": children}


def signals(count: int) -> dict[str, Any]:
    members = [
        {
            "@Skill.SignalGenerator.Signal": {
                "name": f"S{i}",
                "UUID": element_uuid("signal", i),
                "dataType": "float64",
                "top": 100,
                "bottom": 0,
                "waveForm": {"@SawTooth": {"period": "7s", "phaseOffset": f"{i % 1000}ms"}},
            }
        }
        for i in range(count)
    ]
    sampler = {"name": "Sampler", "UUID": element_uuid("sampler", 0), "children": members}
    return {"children": [{"@Skill.SignalGenerator.Sampler": sampler}]}


def main() -> None:
    if sys.argv[1] == "--signals":
        data = signals(int(sys.argv[2]))
        path = sys.argv[3]
    else:
        data, path = model(int(sys.argv[1])), sys.argv[2]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out)


if __name__ == "__main__":
    main()
