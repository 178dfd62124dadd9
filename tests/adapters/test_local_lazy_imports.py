"""What the console's first frame does not need is imported when first used (issue 16: lazy imports).

The local backend's commands (and sent_files, with the email package), its full-text search, and the
search and timeline screens cost the first frame about 10 ms at every start; they are imported at the first
command, search or screen instead."""

from __future__ import annotations

import json
import subprocess
import sys

from standardiste.backends.base import CommandKind
from standardiste.backends.local import commands
from standardiste.backends.local.backend import LocalBackend

# What the console imports before its first frame (__main__, the app, the local adapter), in a fresh
# interpreter, and which of the deferred modules that loaded.
FIRST_FRAME_IMPORTS = """
import json, sys
import standardiste.__main__
import standardiste.console.ui.app
import standardiste.console.ui.workspace_screen
import standardiste.backends.local.backend
print(json.dumps(sorted(sys.modules)))
"""

DEFERRED = (
    "standardiste.backends.local.commands",
    "standardiste.backends.local.sent_files",
    "standardiste.backends.local.search",
    "standardiste.backends.local.search_postgres",
    "standardiste.console.core.search_query",
    "standardiste.console.ui.search_screen",
    "standardiste.console.ui.timeline_screen",
    "email.message",
)


def test_the_first_frame_imports_none_of_what_it_does_not_show() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_IMPORTS], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "standardiste.backends.local.backend" in loaded  # the check ran what the console runs
    assert [name for name in DEFERRED if name in loaded] == []


def test_the_backends_advertised_commands_are_the_ones_its_handlers_perform() -> None:
    # The capability is written out in backend.py so that commands.py is not imported to state it.
    assert LocalBackend.capabilities.commands == commands.SUPPORTED
    assert CommandKind.SEND_DTMF not in LocalBackend.capabilities.commands
