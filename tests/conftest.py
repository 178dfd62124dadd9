"""Fixtures every test file may use. Keep this small: a file's own fixtures live in that file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    """A path for a fresh workspace file (not created yet) in this test's own temporary directory."""
    return tmp_path / "workspace.db"
