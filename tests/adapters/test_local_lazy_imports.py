"""What the console's first frame does not need is imported after it (issue 16: lazy imports).

The local backend's commands (and sent_files, with the email package), its full-text search, and the
search and timeline screens cost the first frame about 10 ms at every start. The commands and the search
are now imported by the backend's connection, in its worker; the screens when first asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


# The commands' module is imported by the connection, in the backend's worker: the first command (the
# "viewing" mark sent at the first open) does not wait on the event loop for the email package to load.
CONNECTED_IMPORTS = """
import asyncio, json, sys
from pathlib import Path
from standardiste.backends.local.backend import LocalBackend

async def main() -> None:
    before = "standardiste.backends.local.commands" in sys.modules
    backend = LocalBackend(Path(sys.argv[1]), agent_id="lazy")
    await backend.connect()
    try:
        print(json.dumps([before, "standardiste.backends.local.commands" in sys.modules]))
    finally:
        await backend.close()

asyncio.run(main())
"""


def test_the_connection_imports_the_commands_before_the_first_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CONNECTED_IMPORTS, str(tmp_path / "lazy.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True]
