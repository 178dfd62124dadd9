"""JSON for backend commands: how the outbox journals a `Command` and reads it back after a restart.

A command is written as `{"v": 1, "type": "Reply", "fields": {...}}`. Each field is encoded and decoded by
its *type hint*, not by guessing from the value, so that what comes back is exactly what went in: enums by
value (`State.SOLVED` -> "solved", `Priority.HIGH` -> 2), tuples as lists, nested dataclasses (`Attachment`,
`Skills`) as objects, `dict[Channel, int]` as an object keyed by the enum value, `X | None` as null or X.

Encoding checks each value against its hint, so a malformed command is refused at submit time (before it is
journalled) rather than found unreadable after a crash. A type the codec does not know raises `CodecError`
in both directions; the round-trip tests build every `Command` subclass from its hints, so a new command
with such a field fails the tests instead of failing in a user's outbox.

Commands are found by `Command.__subclasses__()` (recursively) at decode time, so an adapter package that
defines its own commands is covered once its module is imported.

Reading a journal written by an older version: a field missing from the JSON takes its default (a field
that was added later); a field the class no longer has, or a required field that is missing, is an error,
because silently dropping part of a customer reply is worse than showing it as unreadable.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from ...backends.base import Command

FORMAT_VERSION = 1


class CodecError(ValueError):
    """A command that cannot be written as JSON, or JSON that is not a command this version can read."""


def command_types() -> dict[str, type[Command]]:
    """Every concrete `Command` subclass currently imported, by class name."""
    by_name: dict[str, list[type[Command]]] = {}
    stack: list[type[Command]] = list(Command.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        by_name.setdefault(cls.__name__, []).append(cls)
    found: dict[str, type[Command]] = {}
    for name, classes in by_name.items():
        if len(classes) > 1:
            classes = [cls for cls in classes if _is_current(cls)]
        if len(classes) > 1:
            # The name is the journal's type tag: two classes sharing it could decode as each other.
            modules = ", ".join(sorted({cls.__module__ for cls in classes}))
            raise CodecError(f"several commands are named {name} (in {modules})")
        if classes:
            found[name] = classes[0]
    return found


def _is_current(cls: type) -> bool:
    """False for the class that `@dataclass(slots=True)` replaced: it stays alive as a subclass of `Command`.

    The class reachable under its name in its module is the one in use. A class defined inside a function
    cannot be reached that way: there, the slotted replacement is the one with `__slots__` of its own.
    """
    if "<locals>" in cls.__qualname__:
        return "__slots__" in vars(cls)
    target: object = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        target = getattr(target, part, None)
    return target is cls


def to_data(command: Command) -> dict[str, Any]:
    """The JSON-ready form of `command` (plain dicts, lists, str, int, float, bool, None)."""
    if not isinstance(command, Command) or not dataclasses.is_dataclass(command):
        raise CodecError(f"not a command: {command!r}")
    return {"v": FORMAT_VERSION, "type": type(command).__name__, "fields": _encode_dataclass(command)}


def from_data(data: Any) -> Command:
    if not isinstance(data, dict):
        raise CodecError("a journalled command is a JSON object")
    version = data.get("v")
    if version != FORMAT_VERSION:
        raise CodecError(f"unknown command format version {version!r}")
    name = data.get("type")
    cls = command_types().get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(f"unknown command type {name!r}")
    command = _decode_dataclass(data.get("fields"), cls)
    assert isinstance(command, Command)
    return command


def dumps(command: Command) -> str:
    try:
        # allow_nan=False: NaN and infinity are not JSON, and a NaN time would never compare as due.
        return json.dumps(to_data(command), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError as error:
        if isinstance(error, CodecError):
            raise
        raise CodecError(f"{type(command).__name__} cannot be written as JSON: {error}") from None


def loads(text: str | bytes) -> Command:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise CodecError(f"not JSON: {error}") from None
    return from_data(data)


# ---------------------------------------------------------------------------------------------- by type hint


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # base.py and model.py use `from __future__ import annotations`: hints are strings until resolved here.
    return typing.get_type_hints(cls)


def _encode_dataclass(value: Any) -> dict[str, Any]:
    hints = _hints(type(value))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        try:
            out[f.name] = _encode(getattr(value, f.name), hints[f.name])
        except CodecError as error:
            raise CodecError(f"{type(value).__name__}.{f.name}: {error}") from None
    return out


def _decode_dataclass(data: Any, cls: type) -> Any:
    if not isinstance(data, dict):
        raise CodecError(f"{cls.__name__} is written as a JSON object, not {type(data).__name__}")
    hints = _hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CodecError(f"{cls.__name__} has no field {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CodecError(f"{cls.__name__}.{name} is missing")
            continue
        try:
            kwargs[name] = _decode(data[name], hints[name])
        except CodecError as error:
            raise CodecError(f"{cls.__name__}.{name}: {error}") from None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise CodecError(f"{cls.__name__}: {error}") from None


def _union_arms(hint: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return None


def _through_union(value: Any, arms: tuple[Any, ...], hint: Any, convert: Callable[[Any, Any], Any]) -> Any:
    """`X | Y | None`: None as itself, else the first arm that converts the value (both directions)."""
    if value is None and type(None) in arms:
        return None
    errors = []
    for arm in arms:
        if arm is type(None):
            continue
        try:
            return convert(value, arm)
        except CodecError as error:
            errors.append(str(error))
    raise CodecError(f"{value!r} matches no type of {hint}: {'; '.join(errors)}")


def _encode(value: Any, hint: Any) -> Any:
    arms = _union_arms(hint)
    if arms is not None:
        return _through_union(value, arms, hint, _encode)
    if hint is type(None):
        if value is not None:
            raise CodecError(f"expected None, got {value!r}")
        return None
    origin = typing.get_origin(hint)
    if origin is tuple or origin is list:
        expected = tuple if origin is tuple else list
        if not isinstance(value, expected):
            raise CodecError(f"expected a {expected.__name__}, got {type(value).__name__}")
        return [
            _encode(item, item_hint)
            for item, item_hint in zip(value, _item_hints(hint, len(value)), strict=True)
        ]
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        if not isinstance(value, dict):
            raise CodecError(f"expected a dict, got {type(value).__name__}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            encoded_key = _encode(key, key_hint)
            if not isinstance(encoded_key, str | int) or isinstance(encoded_key, bool):
                raise CodecError(f"a dict key must be text or a whole number, not {key!r}")
            out[str(encoded_key)] = _encode(item, value_hint)
        return out
    if origin is not None or not isinstance(hint, type):
        raise CodecError(f"the codec cannot write a {hint}")
    if issubclass(hint, enum.Enum):
        if not isinstance(value, hint):
            raise CodecError(f"expected a {hint.__name__}, got {value!r}")
        return value.value
    if hint is bool:
        if not isinstance(value, bool):
            raise CodecError(f"expected a bool, got {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise CodecError(f"expected an int, got {value!r}")
        return int(value)
    if hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise CodecError(f"expected a float, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise CodecError(f"expected text, got {value!r}")
        return str(value)
    if dataclasses.is_dataclass(hint):
        if type(value) is not hint:
            raise CodecError(f"expected a {hint.__name__}, got {type(value).__name__}")
        return _encode_dataclass(value)
    raise CodecError(f"the codec cannot write a {hint.__name__}")


def _decode(data: Any, hint: Any) -> Any:
    arms = _union_arms(hint)
    if arms is not None:
        return _through_union(data, arms, hint, _decode)
    if hint is type(None):
        if data is not None:
            raise CodecError(f"expected null, got {data!r}")
        return None
    origin = typing.get_origin(hint)
    if origin is tuple or origin is list:
        if not isinstance(data, list):
            raise CodecError(f"expected a list, got {type(data).__name__}")
        items = [
            _decode(item, item_hint)
            for item, item_hint in zip(data, _item_hints(hint, len(data)), strict=True)
        ]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        if not isinstance(data, dict):
            raise CodecError(f"expected an object, got {type(data).__name__}")
        return {_decode_key(key, key_hint): _decode(item, value_hint) for key, item in data.items()}
    if origin is not None or not isinstance(hint, type):
        raise CodecError(f"the codec cannot read a {hint}")
    if issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError:
            raise CodecError(f"{data!r} is not a {hint.__name__}") from None
    if hint is bool:
        if not isinstance(data, bool):
            raise CodecError(f"expected a bool, got {data!r}")
        return data
    if hint is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise CodecError(f"expected an int, got {data!r}")
        return data
    if hint is float:
        if not isinstance(data, int | float) or isinstance(data, bool):
            raise CodecError(f"expected a number, got {data!r}")
        return float(data)
    if hint is str:
        if not isinstance(data, str):
            raise CodecError(f"expected text, got {data!r}")
        return data
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(data, hint)
    raise CodecError(f"the codec cannot read a {hint.__name__}")


def _item_hints(hint: Any, length: int) -> list[Any]:
    args = typing.get_args(hint)
    if typing.get_origin(hint) is list or (len(args) == 2 and args[1] is Ellipsis):
        return [args[0]] * length
    if not args:
        raise CodecError(f"the codec cannot handle an untyped {hint}")
    if len(args) != length:
        raise CodecError(f"expected {len(args)} items, got {length}")
    return list(args)


def _decode_key(key: str, hint: Any) -> Any:
    """JSON object keys are text: an int-valued key type (an IntEnum, int) was written as its digits."""
    if isinstance(hint, type) and issubclass(hint, int) and not issubclass(hint, bool):
        try:
            return _decode(int(key), hint)
        except ValueError:
            raise CodecError(f"{key!r} is not a whole number") from None
    return _decode(key, hint)


__all__ = ["FORMAT_VERSION", "CodecError", "command_types", "dumps", "from_data", "loads", "to_data"]
