"""The user's config file: TOML in the user config dir, read once at start, edited in place when asked.

Reading uses `tomllib`; writing (the theme remembered from the palette) goes through `tomlkit` so that the
user's comments and layout survive. Unknown keys are kept and warned about (config_keys.py); a bad value
gives an error naming the file and the key instead of a traceback.
"""

from __future__ import annotations

import getpass
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .config_keys import unknown_keys
from .paths import config_path
from .presence import PresenceRules
from .routing import RoutingRules
from .sla import SlaPolicy, parse_duration

DEFAULT_THEME = "standardiste-dark"
_T = TypeVar("_T")


class ConfigError(Exception):
    pass


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
    # What the console says at start (and logs): keys it does not know, which it would otherwise ignore.
    warnings: list[str] = field(default_factory=list)

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

    def read(key: str, parse: Callable[[], _T]) -> _T:
        """`parse()`, its error naming the file and the key: `could not convert string to float: 'ten'`
        alone says neither where nor what."""
        try:
            return parse()
        except (TypeError, ValueError, KeyError) as error:
            message = str(error)
            named = message.startswith((f"{key}.", f"{key} ", f"{key}:"))
            raise ConfigError(f"{path}: {message if named else f'{key}: {message}'}") from None

    return Config(
        path=path,
        agent_id=read("agent", lambda: str(raw.get("agent", user))),
        agent_name=read("name", lambda: str(raw.get("name", raw.get("agent", user)))),
        theme=read("theme", lambda: str(raw.get("theme", DEFAULT_THEME))),
        keys=read("keys", lambda: {str(k): _keys_value(v, k) for k, v in dict(raw.get("keys", {})).items()}),
        undo_seconds=read("undo_seconds", lambda: parse_duration(raw.get("undo_seconds", 10))),
        bell=read("bell", lambda: _bool(raw.get("bell", True))),
        supervisor=read("supervisor", lambda: _bool(raw.get("supervisor", False))),
        sla=read("sla", lambda: SlaPolicy.from_config(dict(raw.get("sla", {})))),
        routing=read("routing", lambda: RoutingRules.from_config(dict(raw.get("routing", {})))),
        presence=read("presence", lambda: PresenceRules.from_config(dict(raw.get("presence", {})))),
        push=read("routing.push", lambda: _bool(dict(raw.get("routing", {})).get("push", False))),
        workspaces=read(
            "workspaces", lambda: {str(k): dict(v) for k, v in dict(raw.get("workspaces", {})).items()}
        ),
        dispositions=read(
            "dispositions", lambda: [(str(k), str(v)) for k, v in dict(raw.get("dispositions", {})).items()]
        ),
        raw=raw,
        warnings=unknown_keys(raw),
    )


def _bool(value: object) -> bool:
    # bool("false") is True: a quoted "false" must be an error, not the opposite of what was written.
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


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
