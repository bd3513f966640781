"""The network edge (the `edge` stream replaces this placeholder; only `http` is defined here)."""
