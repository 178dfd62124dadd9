"""The `[workspaces.NAME]` tables of the config file, each made into the backend its `backend` key names.

Nothing here knows an adapter: each is found by its entry point (`load_backend_class`), checked against the
settings it declares (backends/settings.py), then built by its own `from_config`. A mistake stops the start
with one message naming the file, the table and the key; a key nothing reads is a warning, shown at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...backends.base import Backend, BackendContext, BackendError, load_backend_class
from ...backends.settings import BACKEND_KEY, unknown_settings
from .config import ConfigError

DEFAULT_BACKEND = "local"


def backend_kind(table: Mapping[str, Any]) -> str:
    return str(table.get(BACKEND_KEY, DEFAULT_BACKEND))


def workspace_class(name: str, table: Mapping[str, Any], path: Path) -> type[Backend]:
    """The adapter `[workspaces.NAME] backend` names; ConfigError when none is installed by that name."""
    try:
        return load_backend_class(backend_kind(table))
    except BackendError as error:
        raise ConfigError(f"{path}: [workspaces.{name}] backend: {error}") from None


def open_workspace(
    name: str, table: Mapping[str, Any], context: BackendContext, path: Path
) -> tuple[Backend, list[str]]:
    """The backend of one table, and the warnings about its keys nobody reads."""
    cls = workspace_class(name, table, path)
    warnings = unknown_settings(cls.settings, name, table)
    try:
        backend = cls.from_config(name, table, context)
    except (BackendError, KeyError, TypeError, ValueError) as error:
        # Adapters that read their table themselves may not name it: the message does, once.
        message = str(error)
        where = "" if message.startswith(f"[workspaces.{name}]") else f"[workspaces.{name}] "
        raise ConfigError(f"{path}: {where}{message}") from None
    return backend, warnings


def open_workspaces(
    workspaces: Mapping[str, Mapping[str, Any]], context: BackendContext, path: Path
) -> tuple[list[Backend], list[str]]:
    backends: list[Backend] = []
    warnings: list[str] = []
    for name, table in workspaces.items():
        backend, said = open_workspace(name, table, context, path)
        backends.append(backend)
        warnings += said
    return backends, warnings


__all__ = ["backend_kind", "open_workspace", "open_workspaces", "workspace_class"]
