"""graphlabor on a Dask cluster: the same attribution, the graph split across workers.

``graphlabor.attribute(edges, engine="dask", client=None)`` runs everything
below for you. The pieces, for composing by hand:

- :func:`~graphlabor.distributed.cluster.connect`: a client (given, by a
  scheduler's address, or a local cluster closed after use);
- :mod:`~graphlabor.distributed.partitions`: per-partition read, validation,
  encoding, classification (the local engine's stage functions) and the
  reduction that builds the global id dictionary;
- :mod:`~graphlabor.distributed.blocks`: the flow graph by receiver row
  blocks, and the step each block runs;
- :func:`~graphlabor.distributed.solve.power_iteration`: the solve, moving
  only the values each block's senders need;
- :func:`~graphlabor.distributed.engine.attribute_dask`: all of it in order;
- :mod:`~graphlabor.distributed.adjoint`: ``explain``'s adjoint solve over
  row blocks of the transposed matrix (``graphlabor.explain(..., engine="dask")``).

Requires ``pip install 'graphlabor[distributed]'``. See docs/distributed.md.
"""

from .cluster import connect
from .engine import attribute_dask, check_options

try:
    import dask.sizeof  # noqa: F401
except ImportError:  # dask is not installed: the engine cannot run anyway
    pass
else:  # what partitions and blocks weigh, for the workers' spilling (every worker imports this package)
    from . import sizes  # noqa: F401

__all__ = ["attribute_dask", "check_options", "connect"]
