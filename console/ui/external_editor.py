"""ctrl+e in the composer: the text goes to `$VISUAL` or `$EDITOR` (vi when neither is set) in a temporary
file, the console steps aside while it runs, and the text comes back as saved."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path


class EditorFailed(Exception):
    """No editor could run (none installed, or no terminal to hand it, as in tests)."""


def edit_in_editor(text: str, suspend: Callable[[], AbstractContextManager[object]]) -> str:
    """The text after the editor saved it. `suspend` is the App's: it gives the terminal to the editor."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write(text)
        path = handle.name
    try:
        with suspend():
            subprocess.run([*shlex.split(editor), path], check=False)
        return Path(path).read_text(encoding="utf-8")
    except (OSError, RuntimeError) as error:  # no editor, or no terminal to suspend (tests, web)
        raise EditorFailed(f"Cannot open {editor}: {error}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
