"""Files the agent attaches to a reply: the path typed, completed from the file system, and checked.

A path is refused with a sentence the agent can act on: it does not exist, it is a folder, it cannot be
read (permissions), or it is larger than a mail can carry. A file that passes becomes an `Attachment`
whose `ref` is its absolute path: the backend reads the bytes when it sends (imap/reply.py), so nothing
large is held in the outbox's journal.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from .model import Attachment

MAX_BYTES = 25_000_000  # what most mail servers take in one message (the IMAP backend's own limit too)
MAX_CANDIDATES = 12  # shown under the prompt when tab finds several


class NotAttachable(ValueError):
    """Why this path cannot be attached, in words for the agent."""


def human_size(size: int) -> str:
    """363 B, 1.2 KB, 4.0 MB: bytes below a kilobyte are counted, never rounded to "0 KB"."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _open_for_reading(path: Path) -> None:
    """Opened and closed: the permission bits alone do not say (ACLs, root, a file system mounted read-none)."""
    with path.open("rb"):
        pass


def attachable(text: str, *, cwd: Path | None = None) -> Attachment:
    """The file at `text` (~ and relative paths allowed) as an attachment, or `NotAttachable`."""
    if not text.strip():
        raise NotAttachable("Type the path of a file.")
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    if not path.exists():
        raise NotAttachable(f"No such file: {path}")
    if path.is_dir():
        raise NotAttachable(f"{path} is a folder: attach the files in it one by one.")
    if not path.is_file():
        raise NotAttachable(f"{path} is not a regular file.")
    try:
        _open_for_reading(path)
        size = path.stat().st_size
    except OSError as error:
        raise NotAttachable(f"{path} cannot be read: {error.strerror or error}.") from None
    if size > MAX_BYTES:
        raise NotAttachable(f"{path.name} is {human_size(size)}: mail takes {human_size(MAX_BYTES)} at most.")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Attachment(filename=path.name, content_type=content_type, size=size, ref=str(path.resolve()))


def complete(text: str, *, cwd: Path | None = None) -> tuple[str, list[str]]:
    """Tab on `text`: the path completed as far as it is unambiguous, and the names it could go on with
    (folders end with '/'). Unreadable folders complete to nothing."""
    typed = "~/" if text == "~" else text
    expanded = os.path.expanduser(typed)
    folder, _, prefix = expanded.rpartition(os.sep)
    base = Path(folder or (os.sep if expanded.startswith(os.sep) else "."))
    if not base.is_absolute():
        base = (cwd or Path.cwd()) / base
    try:
        names = sorted(
            e.name + ("/" if e.is_dir() else "") for e in os.scandir(base) if e.name.startswith(prefix)
        )
    except OSError:
        return typed, []
    if not prefix.startswith("."):
        names = [n for n in names if not n.startswith(".")]  # hidden files only when asked for
    if not names:
        return typed, []
    common = os.path.commonprefix(names)  # noqa: RUF071 - letters typed so far, not path components
    head = typed[: len(typed) - len(prefix)] if prefix else typed
    completed = head + common if len(common) > len(prefix) or len(names) == 1 else typed
    return completed, names[:MAX_CANDIDATES] if len(names) > 1 else []


__all__ = ["MAX_BYTES", "NotAttachable", "attachable", "complete", "human_size"]
