"""The console asks Textual for up to 120 frames a second, unless the user chose a rate (issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys

from standardiste.__main__ import prefer_quick_frames


def test_the_default_is_120_and_what_the_user_set_stays() -> None:
    environ: dict[str, str] = {}
    prefer_quick_frames(environ)
    assert environ["TEXTUAL_FPS"] == "120"
    chosen = {"TEXTUAL_FPS": "30"}
    prefer_quick_frames(chosen)
    assert chosen["TEXTUAL_FPS"] == "30"


def test_textual_takes_it_when_set_before_it_is_imported() -> None:
    code = (
        "import os; from standardiste.__main__ import prefer_quick_frames; prefer_quick_frames(os.environ); "
        "import textual.screen as s; print(round(1 / s.UPDATE_PERIOD))"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "120"
