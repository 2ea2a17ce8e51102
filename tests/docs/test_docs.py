"""The ``>>>`` examples of the README and the ridge guide run and print what they show."""

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/ridge.md"]


@pytest.mark.parametrize("name", DOCS)
def test_doctests_in_markdown(name):
    result = doctest.testfile(str(ROOT / name), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
