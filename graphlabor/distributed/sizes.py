"""What the engine's objects weigh, told to Dask (``dask.sizeof``).

A worker decides when to spill results to disk, and reports "managed" against
"unmanaged" memory, from ``dask.sizeof.sizeof`` of each result. Its default
for an object it does not know is ``sys.getsizeof``: 56 bytes for a
partition of 10^6 classified edges. Unregistered, a worker's partitions and
blocks all counted as unmanaged memory, nothing was ever spilled, and the
workers of the memory test (limited to half the local engine's peak) ran
into their limit and were restarted. Registered here, for every dataclass of
the modules whose objects the workers keep between tasks (partitions,
classified edges, blocks, pair entries): the sum of their fields' sizes, an array
shared by two fields counted once. Imported by :mod:`graphlabor.distributed`
(so by every worker that unpickles one of its tasks).
"""

from __future__ import annotations

import sys
from dataclasses import fields
from typing import Any

import numpy as np
from dask.sizeof import sizeof

from .. import classify, prepare
from . import blocks, pairs, partitions


def _buffers(x: Any, seen: set[int]) -> int:
    """Bytes of ``x`` not yet in ``seen`` (numpy arrays by their memory, anything else by ``sizeof``)."""
    if x is None or isinstance(x, (int, float, str, bool)):
        return 0
    if isinstance(x, np.ndarray):
        base = x if x.base is None else x.base
        if id(base) in seen:
            return 0
        seen.add(id(base))
        return int(x.nbytes)
    if isinstance(x, (tuple, list)):
        return sum(_buffers(v, seen) for v in x)
    if isinstance(x, dict):
        return sum(_buffers(v, seen) for v in x.values())
    if hasattr(x, "__dataclass_fields__"):
        return sum(_buffers(getattr(x, f.name), seen) for f in fields(x))
    return int(sizeof(x))


def dataclass_size(obj: Any) -> int:
    """Bytes held by a dataclass instance: its arrays (each counted once) and other fields.

    Examples
    --------
    >>> from graphlabor.classify import Classified
    >>> from graphlabor.prepare import EdgeArrays
    >>> a = np.zeros(1000)
    >>> e = EdgeArrays(np.zeros(10, np.uint32), np.zeros(10, np.uint32), np.zeros(10, np.uint16), a)
    >>> dataclass_size(e) - sys.getsizeof(e)  # 40 + 40 + 20 + 8000 bytes of arrays
    8100
    >>> sizeof(Classified(e, e, e, a[:10], a[:5], np.zeros(3, np.uint8))) - sys.getsizeof(e)  # shared: once
    8103
    """
    return sys.getsizeof(obj) + _buffers(obj, set())


def _dataclasses(module: Any) -> list[type]:
    return [c for c in vars(module).values()
            if isinstance(c, type) and hasattr(c, "__dataclass_fields__") and c.__module__ == module.__name__]


#: Every dataclass of the modules whose objects the workers keep between tasks.
REGISTERED = [c for m in (classify, prepare, partitions, blocks, pairs) for c in _dataclasses(m)]
for _cls in REGISTERED:
    sizeof.register(_cls)(dataclass_size)  # type: ignore[no-untyped-call]
