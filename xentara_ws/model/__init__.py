"""The element model: tree, attributes, values, loading and simulation."""
