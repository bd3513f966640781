"""Element types with behaviour, one module per skill: signal generator, signal flow, data points, debugging.

Attribute sets, type texts and categories follow spec/xentara-model-reference.md sections 2-4.
"""

from .common import RW, ConfigError, R, W
from .data_point import DataPoint
from .debugging import DebugLogger
from .generic import (
    BUILTIN_TYPES,
    CONNECTION_TIME,
    KNOWN_TYPE_TEXTS,
    SKILL_DATA_POINTS,
    make_skill_element,
    skill_category,
    skill_direction,
)
from .signal_flow import Register
from .signal_generator import WAVE_FORMS, Sampler, Signal, to_signal_type, wave

__all__ = [
    "BUILTIN_TYPES",
    "CONNECTION_TIME",
    "KNOWN_TYPE_TEXTS",
    "RW",
    "SKILL_DATA_POINTS",
    "WAVE_FORMS",
    "ConfigError",
    "DataPoint",
    "DebugLogger",
    "R",
    "Register",
    "Sampler",
    "Signal",
    "W",
    "make_skill_element",
    "skill_category",
    "skill_direction",
    "to_signal_type",
    "wave",
]
