"""`standardiste simulate --asterisk NAME`: customers calling a real Asterisk, from the command line, with the
workspace's table from the config and its password as the console finds it (here the environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from asterisk_server import AsteriskServer, asterisk

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]


def _config(tmp_path: Path, server: AsteriskServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'agent = "alice"\n\n[workspaces.pbx]\nbackend = "asterisk"\n'
        f'url = "{server.url}"\nuser = "{server.user}"\napp = "{server.app}"\n'
        'queues = ["sales"]\nphone = "Local/201@agents"\n',
        encoding="utf-8",
    )
    return path


def _simulate(config: Path, *args: str, password: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STANDARDISTE_SECRET_PBX"}
    if password is not None:
        env["STANDARDISTE_SECRET_PBX"] = password
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "standardiste",
            "--config",
            str(config),
            "simulate",
            "--asterisk",
            "pbx",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_simulate_places_calls_into_the_workspaces_asterisk(asterisk: AsteriskServer, tmp_path: Path) -> None:
    config = _config(tmp_path, asterisk)
    done = _simulate(
        config, "--calls", "2", "--rate", "600", "--hangup-after", "1", password=asterisk.password
    )
    assert done.returncode == 0, done.stderr
    assert "placed 2 calls into pbx" in done.stderr


def test_a_wrong_password_or_workspace_is_one_line(asterisk: AsteriskServer, tmp_path: Path) -> None:
    config = _config(tmp_path, asterisk)
    refused = _simulate(config, "--calls", "1", password="not-the-password")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "standardiste simulate: the Asterisk of pbx refused the user or password"
    missing = subprocess.run(
        [sys.executable, "-m", "standardiste", "--config", str(config), "simulate", "--asterisk", "mial"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and 'no [workspaces.mial] with backend = "asterisk"' in missing.stderr
