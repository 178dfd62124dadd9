"""What an adapter may be told in its `[workspaces.NAME]` table: declared once, read and checked generically.

Each adapter lists its settings (`Backend.settings`, a tuple of `Setting`). From that list the console
checks a table before the adapter sees it (`read_settings`: one error naming the table and the key),
warns about keys nothing reads (`unknown_settings`, like config_keys.py does for the rest of the file), and
`standardiste login NAME` knows which secrets to ask for (`secret_settings`, `secret_name`).

Secrets never come from the file: the config is a plain text file that gets copied, shared and committed.
A secret written there is refused with the command that stores it in the keyring instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from .base import Invalid
from .setting import REQUIRED, Setting

# The key every table may have: it names the adapter, it is not one of the adapter's settings.
BACKEND_KEY: Final = "backend"
_EXPECTED = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    Path: "a file path",
    tuple: "a list of text",
}


def _shown(value: Any) -> str:
    """The value as the message shows it: repr escapes control characters; a long one is cut."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(setting: Setting, value: Any) -> Any:
    """The value as the adapter gets it, or ValueError saying what was expected."""
    kind = setting.type
    expected = _EXPECTED[kind]
    if kind is bool:
        # bool("false") is True: a quoted "false" must be an error, not the opposite of what was written.
        if not isinstance(value, bool):
            raise ValueError(f"expected {expected}, got {_shown(value)}")
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected {expected}, got {_shown(value)}")
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"expected {expected}, got {_shown(value)}")
            value = int(value)
        else:
            value = float(value)
        if setting.positive and value <= 0:
            raise ValueError(f"expected a positive number, got {_shown(value)}")
        return value
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f'expected {expected} (like ["a", "b"]), got {_shown(value)}')
        return tuple(item.strip() for item in value if item.strip())
    if not isinstance(value, str):
        raise ValueError(f"expected {expected}, got {_shown(value)}")
    if kind is Path:
        return Path(value.strip()).expanduser() if value.strip() else None
    value = value.strip()
    if setting.choices:
        if value.lower() not in setting.choices:
            raise ValueError(f"expected one of {', '.join(setting.choices)}, got {_shown(value)}")
        return value.lower()
    return value


def read_settings(settings: Sequence[Setting], workspace: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared non-secret setting of `[workspaces.<workspace>]`, converted, defaults filled in.

    Raises `Invalid` naming the table and the key ("[workspaces.mail] port: expected a whole number, got
    'abc'"); the console adds the file's path. Keys nothing declares are left alone (`unknown_settings`).
    """
    where = f"[workspaces.{workspace}]"
    values: dict[str, Any] = {}
    for setting in settings:
        if setting.secret:
            if setting.name in table:
                raise Invalid(
                    f"{where} {setting.name}: a secret is not kept in the config file; remove the line and "
                    f"run `standardiste login {workspace}` to store it in the system keyring"
                )
            continue
        if setting.name not in table:
            if setting.required:
                about = f" ({setting.help})" if setting.help else ""
                raise Invalid(f"{where} {setting.name}: required{about}")
            values[setting.name] = None if setting.default is REQUIRED else setting.default
            continue
        try:
            values[setting.name] = _convert(setting, table[setting.name])
        except ValueError as error:
            raise Invalid(f"{where} {setting.name}: {error}") from None
        if setting.required and values[setting.name] in ("", None):
            about = f" ({setting.help})" if setting.help else ""
            raise Invalid(f"{where} {setting.name}: required, and empty here{about}")
    return values


def unknown_settings(settings: Sequence[Setting], workspace: str, table: Mapping[str, Any]) -> list[str]:
    """Sentences naming the keys of the table no setting declares, with the closest declared name.

    An adapter that declares no settings reads its table itself: nothing is said about its keys.
    """
    if not settings:
        return []
    names = [setting.name for setting in settings]
    warnings = []
    for key in table:
        if key == BACKEND_KEY or key in names:
            continue
        close = difflib.get_close_matches(str(key), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.append(f"unknown key 'workspaces.{workspace}.{key}'{hint}")
    return warnings


def secret_settings(settings: Sequence[Setting]) -> list[Setting]:
    return [setting for setting in settings if setting.secret]


def secret_name(workspace: str, settings: Sequence[Setting], setting: str) -> str:
    """Where one secret is kept: its keyring entry, and its environment variable (secrets.env_name).

    An adapter's first secret is the workspace's own, under the workspace's name (`mail`,
    STANDARDISTE_SECRET_MAIL): most adapters have just one. Each further secret is under `NAME/SETTING`
    (`desk/webhook_key`, STANDARDISTE_SECRET_DESK_WEBHOOK_KEY); `/` because a quoted workspace name may
    hold dots.
    """
    names = [s.name for s in secret_settings(settings)]
    if setting not in names:
        raise KeyError(f"{setting!r} is not a secret setting")
    return workspace if setting == names[0] else f"{workspace}/{setting}"


def workspace_of_secret(name: str) -> str:
    """The workspace a secret's entry belongs to (the one to `standardiste login`)."""
    return name.partition("/")[0]


__all__ = [
    "BACKEND_KEY",
    "REQUIRED",
    "Setting",
    "read_settings",
    "secret_name",
    "secret_settings",
    "unknown_settings",
    "workspace_of_secret",
]
