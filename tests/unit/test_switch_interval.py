"""The console's interpreter hands the lock to a waiting thread after 1 ms (__main__.hand_over_sooner): the
terminal's keys are read, and frames written, by Textual's threads, which waited 5 ms per hop behind a busy
drawing thread (bench/keys.py: a filter letter echoed up to 90 ms late while a pass judged 100k rows)."""

from __future__ import annotations

import subprocess
import sys

from standardiste.__main__ import SWITCH_SECONDS


def test_every_start_of_the_program_hands_over_within_a_millisecond() -> None:
    probe = (
        "import sys\n"
        "from standardiste.__main__ import main\n"
        "before = sys.getswitchinterval()\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(before, sys.getswitchinterval())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = (float(value) for value in result.stdout.split()[-2:])
    assert before == 0.005  # the interpreter's own
    assert after == SWITCH_SECONDS == 0.001
