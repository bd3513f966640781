"""The element model: tree, attributes, values, loading and simulation."""

from .element import AttributeSpec, Element
from .loader import ModelError, load_model, load_model_data
from .simulation import Simulation
from .tree import Model

__all__ = ["AttributeSpec", "Element", "Model", "ModelError", "Simulation", "load_model", "load_model_data"]
