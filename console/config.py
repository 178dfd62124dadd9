"""The user's config file: TOML in the user config dir, read once at start, edited in place when asked.

Reading uses `tomllib`; writing (the theme remembered from the palette) goes through `tomlkit` so that the
user's comments and layout survive. Unknown keys are kept and ignored; bad values give a clear error
naming the key instead of a traceback.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .presence import PresenceRules
from .routing import RoutingRules
from .sla import SlaPolicy, parse_duration

APP_NAME = "standardiste"
DEFAULT_THEME = "standardiste-dark"


class ConfigError(Exception):
    pass


def config_path() -> Path:
    override = os.environ.get("STANDARDISTE_CONFIG")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    override = os.environ.get("STANDARDISTE_DATA")
    path = Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "workspace.db"


@dataclass(slots=True)
class Config:
    path: Path
    agent_id: str
    agent_name: str
    theme: str = DEFAULT_THEME
    keys: dict[str, str] = field(default_factory=dict)
    undo_seconds: float = 10.0
    bell: bool = True
    supervisor: bool = False
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    routing: RoutingRules = field(default_factory=RoutingRules)
    presence: PresenceRules = field(default_factory=PresenceRules)
    # Push mode: the console offers the next item (accept or decline) instead of waiting for `n`.
    push: bool = False
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    dispositions: list[tuple[str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, Mapping) else {}


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
    user = getpass.getuser()
    try:
        keys = {str(k): _keys_value(v, k) for k, v in dict(raw.get("keys", {})).items()}
        workspaces = {str(k): dict(v) for k, v in dict(raw.get("workspaces", {})).items()}
        dispositions = [(str(k), str(v)) for k, v in dict(raw.get("dispositions", {})).items()]
        return Config(
            path=path,
            agent_id=str(raw.get("agent", user)),
            agent_name=str(raw.get("name", raw.get("agent", user))),
            theme=str(raw.get("theme", DEFAULT_THEME)),
            keys=keys,
            undo_seconds=parse_duration(raw.get("undo_seconds", 10)),
            bell=bool(raw.get("bell", True)),
            supervisor=bool(raw.get("supervisor", False)),
            sla=SlaPolicy.from_config(dict(raw.get("sla", {}))),
            routing=RoutingRules.from_config(dict(raw.get("routing", {}))),
            presence=PresenceRules.from_config(dict(raw.get("presence", {}))),
            push=bool(dict(raw.get("routing", {})).get("push", False)),
            workspaces=workspaces,
            dispositions=dispositions,
            raw=raw,
        )
    except (TypeError, ValueError, KeyError) as error:
        raise ConfigError(f"{path}: {error}") from None


def _keys_value(value: object, name: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    raise ValueError(f"keys.{name} must be a string like 'j,down' or a list of keys")


def save_setting(path: Path, key: str, value: str | int | float | bool) -> None:
    """Set one top-level key in the config file, keeping everything else as the user wrote it."""
    import tomlkit  # only when writing: not on the start-up path

    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    document[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    temporary.replace(path)
