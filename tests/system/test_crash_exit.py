"""A crash is never silent: the console, the wallboard, `simulate` and `supervise --json` exit non-zero
and write the full traceback to the log file, not only to a screen that is gone when they exit.

Each runs as a real process. The crash is injected by a `python -c` wrapper that imports standardiste,
replaces one method with one that raises, and calls `main()`: nothing in the program itself can be made to
crash on purpose, so no user can reach the hook.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from standardiste.backends.local.workspace import Workspace

# A customer's string in the exception message: the log and stderr must show it inert.
HOSTILE = "Ann [/bold] Smith \x1b]0;pwned\x07"

WRAPPER = """
import sys
from rich.errors import MarkupError
import {module} as target

def crash(*args, **kwargs):
    raise MarkupError({message!r})

setattr({owner}, {method!r}, crash)
from standardiste.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _environment(tmp: Path) -> dict[str, str]:
    (tmp / "config.toml").write_text('agent = "alice"\nbell = false\n', encoding="utf-8")
    return dict(
        os.environ,
        TERM="xterm-256color",
        STANDARDISTE_CONFIG=str(tmp / "config.toml"),
        STANDARDISTE_DATA=str(tmp / "data"),
        STANDARDISTE_LOG=str(tmp / "log" / "standardiste.log"),
    )


def _wrapper(module: str, cls: str, method: str) -> str:
    owner = f"target.{cls}" if cls else "target"
    return WRAPPER.format(module=module, owner=owner, method=method, message=f"injected crash for {HOSTILE}")


def _in_pty(tmp: Path, code: str, args: list[str], timeout: float = 60.0) -> tuple[int, bytes]:
    """Run a Textual program on a pseudo-terminal until it exits; its status and everything it drew."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_environment(tmp),
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None or select.select([master], [], [], 0)[0]:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"still running after {timeout} s: {output[-2000:]!r}")
            if select.select([master], [], [], 0.1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the pty is closed once the process and its children are gone
                    break
                if not data:
                    break
                output += data
        return process.wait(timeout=10), output
    finally:
        os.close(master)


def _log(tmp: Path) -> str:
    path = tmp / "log" / "standardiste.log"
    assert path.exists(), "no log file was written"
    return path.read_text(encoding="utf-8")


def _assert_traceback_logged(tmp: Path, where: str) -> None:
    log = _log(tmp)
    assert "Traceback (most recent call last)" in log
    assert "MarkupError: injected crash for Ann [/bold] Smith" in log
    assert 'File "<string>", line 7, in crash' in log  # the frame that raised, not just the message
    assert f"{where} crashed" in log
    # The customer's escape sequence is in the log as visible text, never as a working sequence.
    assert "\x1b" not in log and "\x07" not in log and "\\x1b]0;pwned\\x07" in log


def test_a_crash_inside_the_console_exits_non_zero_with_the_traceback_in_the_log(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    Workspace(db).close()
    # The console's one-second clock tick raises, as a notice with broken markup did: an exception inside
    # the running app, which Textual catches, draws, and (before) ended with status 0.
    code = _wrapper("standardiste.console.ui.app", "StandardisteApp", "_tick")
    status, output = _in_pty(tmp_path, code, ["--db", str(db)])
    assert status != 0
    assert b"MarkupError" in output  # Textual still shows it on the screen
    _assert_traceback_logged(tmp_path, "the console")
    assert b"traceback is in" in output


def test_a_crash_inside_the_wallboard_exits_non_zero_with_the_traceback_in_the_log(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    Workspace(db).close()
    code = _wrapper("standardiste.console.ui.wallboard.screen", "WallboardScreen", "_tick")  # its refresh timer
    status, _ = _in_pty(tmp_path, code, ["supervise", "--db", str(db)])
    assert status != 0
    _assert_traceback_logged(tmp_path, "the wallboard")


def _run(tmp: Path, code: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=_environment(tmp),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_simulate_exits_non_zero_with_one_clear_line_and_the_traceback_in_the_log(tmp_path: Path) -> None:
    code = _wrapper("standardiste.backends.local.simulator.engine", "Simulator", "step")
    done = _run(tmp_path, code, ["simulate", "--db", str(tmp_path / "w.db"), "--duration", "5"])
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("standardiste simulate:")]
    assert errors == [
        "standardiste simulate: unexpected error: MarkupError: injected crash for Ann [/bold] Smith "
        f" (the traceback is in {tmp_path / 'log' / 'standardiste.log'})"
    ]
    assert "Traceback" not in done.stderr and "\x1b" not in done.stderr
    _assert_traceback_logged(tmp_path, "standardiste simulate")


def test_supervise_json_exits_non_zero_with_one_clear_line_and_the_traceback_in_the_log(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.db"
    Workspace(db).close()
    code = _wrapper("standardiste.console.core.wallboard_json", "", "iter_figures")
    done = _run(tmp_path, code, ["supervise", "--json", "--db", str(db), "--count", "1"])
    assert done.returncode == 1
    assert done.stderr.startswith("standardiste supervise: unexpected error: MarkupError: injected crash")
    assert len(done.stderr.splitlines()) == 1
    _assert_traceback_logged(tmp_path, "standardiste supervise")


def test_a_malformed_scenario_is_still_a_plain_error_not_a_crash(tmp_path: Path) -> None:
    script = tmp_path / "s.jsonl"
    script.write_text('{"at": 0, "type": "wave", "ref": "x"}\n', encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "standardiste",
            "simulate",
            "--db",
            str(tmp_path / "w.db"),
            "--scenario",
            str(script),
        ],
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "1 error, nothing was replayed" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "w.db").exists()


def test_a_dying_worker_thread_is_logged_not_drawn_over_the_screen(tmp_path: Path) -> None:
    """The demo's simulator runs in a thread; its traceback would land on the console's screen."""
    code = """
import threading
from standardiste.console.core.logfile import setup_logging

setup_logging()
def work():
    raise RuntimeError("the simulator broke")
thread = threading.Thread(target=work, name="demo-simulator")
thread.start()
thread.join()
"""
    done = _run(tmp_path, code, [])
    assert done.returncode == 0 and done.stderr == ""
    log = _log(tmp_path)
    assert "thread demo-simulator crashed: RuntimeError: the simulator broke" in log
    assert "Traceback (most recent call last)" in log
