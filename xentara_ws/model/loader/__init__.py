"""Loading Xentara model files (v2 format, v1 aliases) into a Model, with errors naming file and JSON path.

`document` reads and checks the document; `builder` runs the phases: `structure`, `references`, `elements`.
"""

from .document import SCHEMA_ENV, ModelError, load_model, load_model_data, schema_errors
from .paths import json_path
from .rules import BUILTIN_DESIGNATIONS, BUILTIN_SKILLS, NAME_PATTERN, SKILL_PATTERN, TOP_LEVEL, UUID_PATTERN

__all__ = [
    "BUILTIN_DESIGNATIONS",
    "BUILTIN_SKILLS",
    "NAME_PATTERN",
    "SCHEMA_ENV",
    "SKILL_PATTERN",
    "TOP_LEVEL",
    "UUID_PATTERN",
    "ModelError",
    "json_path",
    "load_model",
    "load_model_data",
    "schema_errors",
]
