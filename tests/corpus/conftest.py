"""Fixtures of the corpus tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from .corpus_tools import NAK


@pytest.fixture
def nak() -> Path:
    return NAK
