"""Run the docstring examples of every module as tests."""

import doctest
import importlib
import pkgutil

import pytest

import graphlabor
import graphlabor.kernels


def _modules():
    """Every module of graphlabor and graphlabor.kernels, those of their subpackages too (report, generate, ...)."""
    names = ["graphlabor", "graphlabor.kernels"]
    for pkg in (graphlabor, graphlabor.kernels):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
