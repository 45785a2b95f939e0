"""A calibrated synthetic platform economy, written as Parquet in bounded memory.

Three families of digital labor are generated, each with its platforms, the
payers whose money reaches them and the users whose activity produces it:

``social``
    An ad-funded social platform. Advertisers send ``spend`` edges (revenue)
    to a platform; members send ``view``, ``click`` and ``post`` edges to the
    platform and ``like``, ``comment`` and ``share`` edges to other members
    (engagement with their posts). Members are not paid.
``microwork``
    A micro-task platform. Clients send ``fee`` edges (revenue); workers send
    ``annotate``, ``train``, ``verify`` and ``imitate`` edges (the trainer,
    verifier and imitator roles of Tubaro, Casilli and Coville) to the
    platform, which sends each worker one ``pay`` edge per task (the piece
    rate).
``ondemand``
    A ride-hailing platform. Riders send ``fee`` edges (the fare, a revenue
    kind under graphlabor's defaults); drivers send ``ride`` and ``rate`` edges
    to the platform, which sends one ``pay`` edge per ride.

Every figure behind the distributions (activity, advertiser spend, ad revenue
per user by region, task rewards and hourly pay, driver utilisation) is listed
with its source in ``docs/generator.md`` and in :mod:`graphlabor.generate.calibration`.

How it scales: a small plan (a few arrays with one entry per node: about 100
bytes per node) fixes how many edges each node emits; the edges themselves
are produced in fixed blocks of ``BLOCK`` rows, each from its own random
stream (``numpy.random.SeedSequence(seed, spawn_key=(1, block))``), and
written to Parquet as they are made (the encoding in a background thread).
Memory therefore depends on the number of nodes and on ``row_group_size``,
never on the number of edges, and the output depends only on the parameters
and the seed: not on ``row_group_size``, not on how many blocks were written
before. Each node's edges are dealt over ``ROUNDS`` passes through all nodes
and shuffled within blocks, so any stretch of the file mixes many nodes.

Examples
--------
>>> import tempfile, os, pyarrow.parquet as pq
>>> d = tempfile.mkdtemp()
>>> info = generate(os.path.join(d, "e.parquet"), edges=2000, seed=1)
>>> info.edges, os.path.basename(info.nodes_path)
(2000, 'e_nodes.parquet')
>>> pq.read_schema(os.path.join(d, "e.parquet")).names
['src', 'dst', 'kind', 'weight', 'amount', 'timestamp', 'context']
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .calibration import (
    ACTIVITY_CAP,
    BLOCK,
    COUNTRIES,
    EXAMPLE,
    FAMILIES,
    KINDS,
    RIDE_HOURS,
    ROUNDS,
    TYPES,
)
from .plan import Plan
from .tables import edge_schema, node_schema
from .write import GenerateInfo, default_nodes_path, generate, generate_tables

__all__ = [
    "ACTIVITY_CAP", "BLOCK", "COUNTRIES", "EXAMPLE", "FAMILIES", "KINDS", "RIDE_HOURS", "ROUNDS", "TYPES",
    "GenerateInfo", "Plan", "default_nodes_path", "edge_schema", "generate", "generate_tables", "node_schema",
]


class _CallableModule(types.ModuleType):
    """This package, callable: ``graphlabor.generate(...)`` runs :func:`generate`.

    The package exports the function ``generate`` under the name of this
    module; whichever of the two ``graphlabor.generate`` is bound to, calling
    it writes an economy.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> GenerateInfo:
        return generate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
