"""Write the bundled example: graphlabor/data/example_edges.parquet and example_nodes.parquet.

The example comes from the calibrated generator with fixed parameters
(``graphlabor.generate.EXAMPLE``), so it can be rebuilt bit for bit:

    python scripts/make_example.py

then check it with

    graphlabor attribute graphlabor/data/example_edges.parquet --nodes graphlabor/data/example_nodes.parquet
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from graphlabor.generate import EXAMPLE, generate  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "graphlabor", "data")


def main() -> None:
    edges = os.path.join(DATA, "example_edges.parquet")
    nodes = os.path.join(DATA, "example_nodes.parquet")
    info = generate(edges, nodes, **EXAMPLE)
    print(f"wrote {edges} ({os.path.getsize(edges):,} bytes) and {nodes} ({os.path.getsize(nodes):,} bytes)")
    for key in ("edges", "nodes", "users", "platforms", "payers", "revenue", "pay"):
        print(f"  {key}: {getattr(info, key)}")
    print("  kinds: " + ", ".join(f"{k} {v}" for k, v in info.kinds.items()))


if __name__ == "__main__":
    main()
