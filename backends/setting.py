"""One declared key of a workspace table: what `Backend.settings` lists (read by backends/settings.py).

Kept apart from the reader so that base.py can name the type without importing the reader, which raises
base.py's `Invalid` (the two would import each other).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final[Any] = _Required()
# The types a setting may have. `tuple` is a TOML list of strings, read as a tuple of stripped strings.
TYPES: Final = (str, int, float, bool, Path, tuple)


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of a workspace table.

    `default` is used when the key is absent (`REQUIRED`: the key must be given; None: the adapter works it
    out, e.g. a port from the security mode). A `secret` setting is never read from the file: it is stored by
    `standardiste login NAME` and reaches the adapter through `BackendContext.secret`.
    """

    name: str
    type: type = str
    default: Any = None
    secret: bool = False
    help: str = ""
    # For text: the only values allowed (compared lower-cased, returned lower-cased).
    choices: tuple[str, ...] = ()
    # For numbers: zero and below are refused (a port, a timeout, a size).
    positive: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"setting {self.name!r}: type must be one of str, int, float, bool, Path, tuple")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.secret


__all__ = ["REQUIRED", "TYPES", "Setting"]
