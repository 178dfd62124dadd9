"""Saving a customer's attachments to a folder the agent chose, and nowhere else.

An attachment name is customer text: `../../etc/passwd`, an absolute path, control characters, a name
that already exists. Each becomes one safe file name inside the folder (`safe_filename`), an existing file
is never overwritten (`name (2).pdf`), and the final path is checked to be inside the folder before any
byte is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from .sanitize import safe_filename


class UnsafePath(ValueError):
    pass


def target_path(folder: Path, name: str) -> Path:
    """A fresh path inside `folder` for a file the customer called `name`."""
    root = folder.expanduser().resolve()
    base = safe_filename(name)
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem:
        stem, extension = base, ""
    candidate = root / base
    counter = 2
    while candidate.exists():
        candidate = root / (f"{stem} ({counter}).{extension}" if extension else f"{stem} ({counter})")
        counter += 1
    resolved = candidate.resolve()
    if resolved.parent != root:
        raise UnsafePath(f"refusing to write {name!r} outside {root}")
    return resolved


def save_attachment(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` under a safe name in `folder` (created if needed); never follows or replaces a file."""
    folder.expanduser().mkdir(parents=True, exist_ok=True)
    path = target_path(folder, name)
    # O_EXCL: a file (or a link) that appeared since the check is not written through.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path
