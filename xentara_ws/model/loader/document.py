"""Reading and checking a model document: the file, its JSON, the vendor schema, and the error report."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...protocol.codec import TimePoint
from ..tree import Model, wall_clock
from .builder import ModelBuilder
from .paths import json_path

SCHEMA_ENV = "XENTARA_MODEL_SCHEMA"
"""Environment variable naming the vendor's schema-xentara-model.json, used when given."""


class ModelError(ValueError):
    """A model file that cannot be loaded; `errors` lists every problem found, one line each."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        if len(errors) == 1:
            message = errors[0]
        else:
            message = f"{len(errors)} problems in model file {source}:\n  " + "\n  ".join(errors)
        super().__init__(message)


def load_model(
    path: str | os.PathLike[str],
    *,
    schema_path: str | os.PathLike[str] | None = None,
    clock: Callable[[], TimePoint] | None = None,
) -> Model:
    """Load and validate a model file; raises ModelError naming the file, JSON path and problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(source, [f"{source}: cannot read the model file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ModelError(source, [f"{source}: the model file is not UTF-8 text: {exc.reason}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(source, [f"{source}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"]) from None
    return load_model_data(data, source=source, schema_path=schema_path, clock=clock)


def load_model_data(
    data: Any,
    *,
    source: str = "<model>",
    schema_path: str | os.PathLike[str] | None = None,
    clock: Callable[[], TimePoint] | None = None,
) -> Model:
    """Build a Model from already parsed JSON; `source` names it in error messages."""
    errors: list[str] = []
    schema_file = schema_path if schema_path is not None else os.environ.get(SCHEMA_ENV)
    if schema_file:
        errors += schema_errors(data, schema_file, source)
    builder = ModelBuilder(source, clock or wall_clock)
    # Loading allocates hundreds of thousands of long-lived objects and frees almost none: the
    # collector's passes over them would cost about half the start-up of a large model.
    collecting = gc.isenabled()
    gc.disable()
    try:
        model = builder.build(data)
    finally:
        if collecting:
            gc.enable()
    errors += builder.errors
    if errors or model is None:
        raise ModelError(source, list(dict.fromkeys(errors)))
    model.path = source
    return model


def schema_errors(data: Any, schema_path: str | os.PathLike[str], source: str) -> list[str]:
    """Problems the vendor's JSON schema finds, each as `file: JSON path: problem`."""
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    out: list[str] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # A oneOf over element types says only "not valid under any"; the deepest sub-errors say why.
        for leaf in _deepest(error):
            message = leaf.message if len(leaf.message) <= 200 else leaf.message[:197] + "..."
            out.append(f"{source}: {json_path(leaf.absolute_path)}: {message} (schema)")
    return list(dict.fromkeys(out))


def _deepest(error: Any) -> list[Any]:
    leaves: list[Any] = []
    stack = [error]
    while stack:
        current = stack.pop()
        if current.context:
            stack.extend(current.context)
        else:
            leaves.append(current)
    depth = max(len(leaf.absolute_path) for leaf in leaves)
    return [leaf for leaf in leaves if len(leaf.absolute_path) == depth]
