"""Where standardiste keeps its files by default: the config file and the data directory (the default
workspace, drafts, outboxes). Light on purpose, the environment and platformdirs only: the console's very
first step reads it, before any other import (`__main__.read_ahead`)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "standardiste"


def config_path() -> Path:
    override = os.environ.get("STANDARDISTE_CONFIG")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_path() -> Path:
    """The data directory, not created."""
    override = os.environ.get("STANDARDISTE_DATA")
    return Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME)


def data_dir() -> Path:
    """The data directory, created if need be."""
    path = data_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "workspace.db"


__all__ = ["APP_NAME", "config_path", "data_dir", "data_path", "default_db_path"]
