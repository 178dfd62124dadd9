"""The log file: warnings of every part of the program, and the full traceback of any crash.

A terminal UI's screen is gone when it exits, and Textual shows a crash's traceback only there, so a crash
must also be written down somewhere that stays: `standardiste.log` in the user log directory
(`platformdirs.user_log_path`, on Linux `~/.local/state/standardiste/log/`), or the file named by
`STANDARDISTE_LOG`. Until a handler exists, Python's logging writes warnings to stderr, which is the
console's screen; with it they go to the file.

What is written may hold customer text (an exception message quoting a subject, a file name). The file is
read with `less` or `cat` in a terminal, so control characters are written as visible escapes (`\\x1b`),
never raw: a log line cannot retitle the reader's terminal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import platformdirs

from .paths import APP_NAME

LOG_ENV = "STANDARDISTE_LOG"
MAX_BYTES = 2_000_000
BACKUPS = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "standardiste-logfile"


def log_path() -> Path:
    override = os.environ.get(LOG_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_log_path(APP_NAME) / "standardiste.log"


class _VisibleControls(logging.Formatter):
    """Every control character (and bidi override) of a record, traceback included, as `\\xNN`."""

    def format(self, record: logging.LogRecord) -> str:
        return _CONTROL.sub(
            lambda m: m.group(0).encode("unicode_escape").decode("ascii"), super().format(record)
        )


def setup_logging() -> Path | None:
    """Send warnings and errors of the whole process to the log file; returns its path, or None when it
    cannot be opened (a read-only home: the program runs on, without a log). Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _HANDLER_NAME and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # delay: the file appears with the first record, not at every start.
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError:
        return None
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_VisibleControls(_FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    # A worker thread that dies (the demo's simulator) would print its traceback over the console's screen.
    threading.excepthook = _thread_crashed
    return path


def log_crash(error: BaseException, what: str) -> str:
    """The full traceback of `error` into the log file (and wherever else logging goes); returns where to
    look for it, for the one line said on stderr."""
    logging.getLogger("standardiste").critical(
        "%s crashed: %s: %s",
        what,
        type(error).__name__,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    path = setup_logging()  # already set up: this only reads which file it is
    return f"the traceback is in {path}" if path else "the traceback is above"


def app_exit_status(app: Any, what: str) -> int:
    """After `app.run()` returned: the process's exit status, non-zero after a crash, whose traceback
    (Textual printed it on the screen and kept the exception) is written to the log file too."""
    error = getattr(app, "_exception", None)
    code = app.return_code or 0
    if error is not None:
        print(f"standardiste: {what} crashed; {log_crash(error, what)}", file=sys.stderr)
        return code or 1
    return code


def _thread_crashed(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    log_crash(args.exc_value, f"thread {name}")


__all__ = ["LOG_ENV", "app_exit_status", "log_crash", "log_path", "setup_logging"]
