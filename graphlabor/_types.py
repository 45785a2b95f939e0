"""Type aliases of the public API's arguments, for annotations (strings at run time)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

#: A file path.
PathLike: TypeAlias = "str | os.PathLike[str]"

#: Columns in memory: a pyarrow Table or RecordBatch, a pandas DataFrame or a
#: dict of column name to values.
InMemoryTable: TypeAlias = "pa.Table | pa.RecordBatch | pd.DataFrame | Mapping[str, Any]"

#: What ``attribute`` reads edges from: a file (Parquet, CSV, Arrow IPC, or a
#: directory of Parquet files), a list of files, or columns in memory.
EdgesInput: TypeAlias = "PathLike | Sequence[PathLike] | InMemoryTable"

#: What ``attribute`` reads node attributes from.
NodesInput: TypeAlias = "PathLike | InMemoryTable"

#: An instant: ISO 8601 text, epoch seconds, or a date/datetime (naive means UTC).
Instant: TypeAlias = "str | int | np.integer[Any] | dt.date"

__all__ = ["EdgesInput", "InMemoryTable", "Instant", "NodesInput", "PathLike"]
