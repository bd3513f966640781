"""Optional scale-out on NATS: several server nodes, one model, one sub-session registry.

Needs the `cluster` extra (`pip install xentara-ws[cluster]`, which brings nats-py). Embedding:
`node = await ClusterNode.join(server, ClusterOptions("nats://127.0.0.1:4222"))` before
`server.start(...)`, and `await node.close()` after `server.close()`.
"""

from .node import ClusterError, ClusterNode, ClusterOptions

__all__ = ["ClusterError", "ClusterNode", "ClusterOptions"]
