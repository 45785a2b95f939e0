"""Array types for the kernels' annotations (Numba ignores annotations)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]
U32 = NDArray[np.uint32]
U64 = NDArray[np.uint64]
I8 = NDArray[np.int8]
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
#: any integer dtype
Ints = NDArray[np.integer[Any]]
#: any dtype
Arr = NDArray[Any]

#: ``(indptr, indices, data)`` arrays of a CSR matrix
CSR = tuple[U64, U32, F64]
