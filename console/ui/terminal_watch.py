"""Leave when the terminal is gone: a closed SSH session, a killed terminal emulator or tmux window.

When the terminal behind the console's pty closes, reads of it return end-of-file at once, and Textual's input
thread, which takes that for piped input, reads again in a busy loop: the console spun at 100% CPU for ever,
and its heartbeat kept the agent "available" to routing while nobody sat at it (SIGHUP does not arrive when the
pty is not the process's controlling terminal). The app checks every second and, once the terminal is gone,
exits as a quit does: signed off, its journalled sends kept for the next start.
"""

from __future__ import annotations

import os
from typing import Any

# 128 + SIGHUP, what a shell reports for a process ended by a hang-up.
TERMINAL_GONE_EXIT = 129


def terminal_gone(driver: Any) -> bool:
    """True when the driver reads a terminal that no longer exists (headless and web drivers: never)."""
    fileno = getattr(driver, "fileno", None)
    if not isinstance(fileno, int) or type(driver).__name__ == "HeadlessDriver":
        return False
    try:
        return not os.isatty(fileno)
    except OSError:
        return True
