"""Command-line habits a power user expects in the first hour (issue 18): --version, a --db typo refused,
a missing scenario file in one line, config mistakes named, TERM=dumb without colour."""

from __future__ import annotations

import tomllib
from importlib.metadata import version as distribution_version
from pathlib import Path

import pytest
import standardiste
from standardiste.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([flag])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"standardiste {distribution_version('standardiste')}"


def test_fallback_version_is_pyprojects() -> None:
    """A source tree run without installing reports the package's __version__: it must not drift."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert standardiste.__version__ == project["version"]


def test_help_says_where_the_log_is(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "here.log"
    monkeypatch.setenv("STANDARDISTE_LOG", str(log))
    with pytest.raises(SystemExit):
        main(["--help"])
    assert str(log) in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [[], ["simulate", "--duration", "0.2"], ["supervise", "--json", "--count", "1", "--interval", "0"]],
    ids=["console", "simulate", "supervise"],
)
def test_db_in_a_missing_directory_is_refused(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from standardiste.console.ui.app import StandardisteApp

    def opened(self: StandardisteApp) -> None:
        raise AssertionError("the console opened on a mistyped --db")

    monkeypatch.setattr(StandardisteApp, "run", opened)
    monkeypatch.setenv("STANDARDISTE_LOG", str(tmp_path / "log" / "standardiste.log"))
    typo = tmp_path / "tema" / "team.db"
    options = ["--config", str(tmp_path / "no-config.toml")] if not command else []
    assert main([*command[:1], *options, "--db", str(typo), *command[1:]]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1
    assert f"the directory {typo.parent} does not exist" in errors[0]
    assert not typo.parent.exists()


def test_db_new_file_in_an_existing_directory_is_a_new_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDARDISTE_LOG", str(tmp_path / "standardiste.log"))
    db = tmp_path / "new.db"
    assert main(["simulate", "--db", str(db), "--duration", "0.2"]) == 0
    assert db.is_file()


@pytest.mark.parametrize("name", ["missing.jsonl", "."], ids=["missing", "directory"])
def test_simulate_scenario_that_is_not_a_file_is_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANDARDISTE_LOG", str(tmp_path / "standardiste.log"))
    scenario = tmp_path / name
    db = tmp_path / "w.db"
    assert main(["simulate", "--db", str(db), "--scenario", str(scenario), "--duration", "0.2"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    reason = "not found" if name != "." else "is a directory, not a scenario file"
    assert errors == [f"standardiste simulate: {scenario}: {reason}"]
    assert not db.exists()  # nothing was started


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('undo_seconds = "ten"', "undo_seconds"),
        ('bell = "no"', "bell"),
        ('[sla]\nwarning = "lots"', "sla"),
        ("[keys]\n'queue.down' = 3", "keys.queue.down"),
    ],
)
def test_a_wrong_config_value_names_the_key_and_the_file(line: str, key: str, tmp_path: Path) -> None:
    from standardiste.console.core.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: {key}")


def test_a_wrong_config_value_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANDARDISTE_LOG", str(tmp_path / "standardiste.log"))
    path = tmp_path / "config.toml"
    path.write_text('undo_seconds = "ten"\n', encoding="utf-8")
    assert main(["--config", str(path)]) == 2
    (error,) = capsys.readouterr().err.strip().splitlines()
    assert f"{path}: undo_seconds:" in error


def test_unknown_config_keys_are_warned_about(tmp_path: Path) -> None:
    from standardiste.console.core.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(
        'undo_second = 5\n[profil]\nx = 1\n[profile]\nlanguage = ["fr"]\n'
        '[routing]\nordr = ["phone"]\npush = true\n[presence]\nidle = "5m"\n[sla]\nphone = "20s"\nfone = "1m"\n',
        encoding="utf-8",
    )
    assert load_config(path).warnings == [
        "unknown key 'undo_second'",
        "unknown key 'profil'",
        "unknown key 'routing.ordr'",
        "unknown key 'presence.idle'",
        "unknown key 'sla.fone'",
        "unknown key 'profile.language'",
    ]


def test_a_profile_with_only_languages_works() -> None:
    from standardiste.console.core.agent_profile import profile_of
    from standardiste.console.core.model import Channel

    profile = profile_of({"profile": {"languages": ["fr", "de"]}})
    assert profile is not None
    assert profile.languages == ("fr", "de")
    assert profile.channels == {Channel.EMAIL: 1}


async def test_unknown_theme_keys_and_binding_ids_are_said_at_start_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from app_harness import make_app

    app = make_app(
        tmp_path,
        config_text='agent = "alice"\ntheme = "solarised"\nbel = false\n'
        '[keys]\n"queue.dwn" = "x"\n"queue.down" = "j"\n"outbox.retry" = "R"\n',
    )
    with caplog.at_level("WARNING"):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            said = [n.message for n in app.said]
    config = tmp_path / "config.toml"
    expected = [
        f"{config}: unknown key 'bel'",
        f"{config}: unknown theme 'solarised' (ctrl+p lists the themes)",
        f"{config}: [keys]: unknown binding id 'queue.dwn' (? lists them)",
    ]
    assert [m for m in said if m.startswith(str(config))] == expected
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("config ")]
    assert logged == [f"config {m}" for m in expected]


def _wallboard_output(tmp_path: Path, term: str) -> bytes:
    """The wallboard's first screens on a real pty with this TERM (its colours are the console's)."""
    import fcntl
    import os
    import select
    import signal
    import struct
    import subprocess
    import sys
    import termios
    import time

    from standardiste.backends.local import Workspace

    db = tmp_path / "w.db"
    Workspace(db).close()
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEXTUAL_COLOR_SYSTEM", "COLORTERM")}
    env.update(TERM=term, STANDARDISTE_LOG=str(tmp_path / "standardiste.log"))
    process = subprocess.Popen(
        [sys.executable, "-m", "standardiste", "supervise", "--db", str(db)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 30
    try:
        # Until the wallboard has drawn its tiles (their borders), then a little more for the first refresh.
        while time.monotonic() < deadline and output.count(b"\xe2\x94") < 200:
            if select.select([master], [], [], 0.1)[0]:
                output += os.read(master, 65536)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        os.close(master)
    return output


def _colours(output: bytes) -> tuple[set[str], set[int]]:
    """The colour codes of every SGR sequence: extended ones (`38;2` truecolor, `38;5` 256) and basic ones."""
    import re

    extended: set[str] = set()
    basic: set[int] = set()
    for params in re.findall(rb"\x1b\[([0-9;]*)m", output):
        codes = [int(p) for p in params.split(b";") if p]
        index = 0
        while index < len(codes):
            code = codes[index]
            if code in (38, 48) and index + 1 < len(codes):
                extended.add(f"{code};{codes[index + 1]}")
                index += 5 if codes[index + 1] == 2 else 3
                continue
            if 30 <= code <= 47 or 90 <= code <= 107:
                basic.add(code)
            index += 1
    return extended, basic


def test_term_dumb_gets_no_colour(tmp_path: Path) -> None:
    # The test can fail: at TERM=xterm-256color the wallboard is in colour (256-colour codes: 38;5;N).
    extended, _ = _colours(_wallboard_output(tmp_path, "xterm-256color"))
    assert extended
    extended, basic = _colours(_wallboard_output(tmp_path, "dumb"))
    assert extended == set()  # neither truecolor nor 256 colours
    # What is left of the 16 colours is greys (NO_COLOR's monochrome): black, white, bright black and white.
    assert basic <= {30, 37, 40, 47, 90, 97, 100, 107}


def test_pyproject_gives_setuptools_nothing_to_warn_about() -> None:
    """`pip install -e .` printed ~120 lines of setuptools warnings, for two causes checked here: the license
    as a TOML table (deprecated: an SPDX string) and folders of data files missing from `packages`."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(pyproject["project"]["license"], str)
    setuptools = pyproject["tool"]["setuptools"]
    packages = set(setuptools["packages"])
    # Every folder inside a shipped package that holds files is a package of its own in the configuration
    # (the root's folders are the repository's: tests, docs, bench are not shipped).
    missing = []
    for package in sorted(packages - {"standardiste"}):
        folder = ROOT.joinpath(*package.split(".")[1:])
        for sub in folder.iterdir():
            if sub.is_dir() and sub.name != "__pycache__" and any(f.is_file() for f in sub.iterdir()):
                name = f"{package}.{sub.name}"
                if name not in packages:
                    missing.append(name)
    assert missing == []
    for package, patterns in setuptools["package-data"].items():
        assert package in packages
        assert all("/" not in pattern for pattern in patterns), "data of a sub-folder belongs to that folder"


@pytest.mark.parametrize(("document", "section"), [("README.md", "## Configuration"), ("docs/routing.md", "## Config")])
def test_the_documented_config_examples_give_no_warning(document: str, section: str, tmp_path: Path) -> None:
    """The key lists of config_keys.py must know every key the documentation shows."""
    from standardiste.console.core.config import load_config

    text = (ROOT / document).read_text(encoding="utf-8")
    example = text.split(section, 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    assert load_config(path).warnings == []
