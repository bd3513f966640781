"""The built-in demo configuration: a small simulated plant with users `demo` and `operator`."""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
OPERATOR_USER = "operator"
OPERATOR_PASSWORD = "operator"
