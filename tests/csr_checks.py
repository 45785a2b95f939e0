"""Shared pieces of the CSR-build kernel tests: random triples, bit-for-bit equality, 1 against 2 threads.

Used by tests/test_multiset.py, tests/test_flowbuild.py and tests/test_layout.py
(no test module imports another).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

A = TypeVar("A")
B = TypeVar("B")
F = TypeVar("F", bound=Callable[..., Any])

WEIGHTS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "distinct": lambda rng, m: rng.random(m),
    "few": lambda rng, m: rng.choice([0.25, 0.5, 1.0, 3.0], m),
    "ones": lambda rng, m: np.ones(m),
    "signed zeros": lambda rng, m: rng.choice([-0.0, 0.0, 0.1, -0.7, 1e-310], m),
}
"""Weight draws by name: all distinct, a few positive values repeated, all ones, signed zeros and a subnormal."""

SEEDS = st.integers(0, 2**31)
"""Hypothesis strategy of the seeds the tests' random generators start from."""

N_PARTS = st.sampled_from([None, 1, 3])
"""Hypothesis strategy of the builds' ``n_parts``: their own choice, one part, three."""


def random_cases(max_examples: int, **params: Any) -> Callable[[F], F]:
    """Hypothesis over ``params`` and ``seed`` (SEEDS): ``max_examples`` examples, no deadline.

    A parameter given as a ``(low, high)`` tuple draws ``st.integers(low, high)``, a list
    ``st.sampled_from(list)``, anything else is a strategy itself.
    """
    strategies = {name: st.integers(*v) if isinstance(v, tuple) else st.sampled_from(v) if isinstance(v, list) else v
                  for name, v in params.items()}

    def wrap(test: F) -> F:
        return settings(deadline=None, max_examples=max_examples)(given(seed=SEEDS, **strategies)(test))  # type: ignore[no-any-return]

    return wrap


def random_triples(rng: np.random.Generator, n: int, m: int, n_cols: int,
                   kind: str = "distinct") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m`` random (row, column, weight) triples: rows below ``n``, columns below ``n_cols`` (uint32), WEIGHTS[kind]."""
    rows = rng.integers(0, n, m).astype(np.uint32)
    cols = rng.integers(0, n_cols, m).astype(np.uint32)
    return rows, cols, WEIGHTS[kind](rng, m)


def assert_same_bits(got: Iterable[np.ndarray], want: Iterable[np.ndarray]) -> None:
    """As many arrays in ``got`` as in ``want``, each of the same dtype and shape and equal bit for bit."""
    got, want = list(got), list(want)
    assert len(got) == len(want)
    for u, v in zip(got, want):
        assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()


def one_then_two_threads(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``first()`` at 1 Numba thread, then ``second()`` at 2 (or all Numba has, if fewer); the count restored after."""
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = first()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = second()
    finally:
        numba.set_num_threads(before)
    return a, b
