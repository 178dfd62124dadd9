"""What the console and `standardiste login` do with the settings adapters declare (backends/settings.py),
for the adapters shipped here: a bad table refused in one message, the secrets `login` asks for."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from standardiste.__main__ import main
from standardiste.backends.base import Invalid
from standardiste.backends.imap import ImapBackend
from standardiste.backends.local import LocalBackend
from standardiste.console.core import secrets


def test_the_shipped_adapters_declare_their_settings() -> None:
    assert [s.name for s in ImapBackend.settings if s.secret] == ["password"]
    assert {"host", "user", "port", "security", "smtp_host", "from", "ca_file"} <= {
        s.name for s in ImapBackend.settings
    }
    assert [s.name for s in LocalBackend.settings] == ["db", "password", "poll_interval"]
    # A password only for a workspace on PostgreSQL whose DSN has none.
    assert LocalBackend.secrets_for({"db": "team.db"}) == []
    assert [s.name for s in LocalBackend.secrets_for({"db": "postgresql://alice@db.shop/team"})] == ["password"]
    assert LocalBackend.secrets_for({"db": "postgresql://alice:pw@db.shop/team"}) == []


# ---------------------------------------------------------------------------------------------- the console


def write_config(tmp_path: Path, tables: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'agent = "alice"\n\n{tables}', encoding="utf-8")
    return path


def test_the_console_refuses_a_bad_table_naming_file_table_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDARDISTE_DATA", str(tmp_path / "data"))
    path = write_config(
        tmp_path, '[workspaces.mail]\nbackend = "imap"\nhost = "h"\nuser = "u@x"\nport = "abc"\n'
    )
    assert main(["--config", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"standardiste: bad config: {path}: [workspaces.mail] port: expected a whole number, got 'abc'"
    )
    path = write_config(tmp_path, '[workspaces.desk]\nbackend = "freshdesk"\n')
    assert main(["--config", str(path)]) == 2
    assert "[workspaces.desk] backend: no backend named 'freshdesk' is installed" in capsys.readouterr().err
    path = write_config(tmp_path, f'[workspaces.team]\ndb = "{tmp_path}/missing/team.db"\n')
    assert main(["--config", str(path)]) == 2
    assert "[workspaces.team] db: the directory" in capsys.readouterr().err


def test_a_local_table_is_read_like_any_other(tmp_path: Path) -> None:
    from standardiste.backends.base import BackendContext

    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda name: "")
    backend = LocalBackend.from_config("team", {"backend": "local", "poll_interval": 0.5}, context)
    assert backend.path == tmp_path / "workspace.db" and backend.poll_interval == 0.5
    assert backend.agent_id == "alice"
    with pytest.raises(Invalid, match=r"\[workspaces.team\] poll_interval: expected a positive number"):
        LocalBackend.from_config("team", {"poll_interval": 0}, context)
    with pytest.raises(Invalid, match="is a directory"):
        LocalBackend.from_config("team", {"db": str(tmp_path)}, context)


async def test_a_local_table_registers_the_agent_of_the_profile(tmp_path: Path) -> None:
    """[profile] says German and chat only: the agent the table's workspace registers says so too."""
    from standardiste.backends.base import BackendContext
    from standardiste.backends.local import Workspace
    from standardiste.console.core.model import Agent, Channel, Skills

    me = Agent("alice", "Alice", Skills(channels={Channel.CHAT: 2}, languages=("de",)))
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda name: "", agent=me)
    backend = LocalBackend.from_config("team", {"backend": "local"}, context)
    await backend.connect()
    try:
        agent = Workspace(tmp_path / "workspace.db").agent("alice")
        assert agent is not None and agent.skills.languages == ("de",)
        assert set(agent.skills.channels) == {Channel.CHAT}
    finally:
        await backend.close()


# ---------------------------------------------------------------------------------------------- login


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    kept: dict[str, str] = {}
    monkeypatch.setattr(secrets, "store_secret", lambda name, secret: kept.__setitem__(name, secret))
    return kept


def login(path: Path, workspace: str, typed: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = secrets.login_command(
        workspace, stdin_secret=True, stdin=io.StringIO(typed), stdout=out, stderr=err, config_path=path
    )
    return status, out.getvalue(), err.getvalue()


def test_login_asks_for_what_the_imap_table_declares(tmp_path: Path, stored: dict[str, str]) -> None:
    path = write_config(tmp_path, '[workspaces.mail]\nbackend = "imap"\nhost = "h"\nuser = "u@x"\n')
    status, out, _ = login(path, "mail", "pw\n")
    assert status == 0 and stored == {"mail": "pw"}
    assert out == "The password of workspace 'mail' is stored in the system keyring.\n"


def test_login_for_a_workspace_without_secrets_or_not_in_the_file(
    tmp_path: Path, stored: dict[str, str]
) -> None:
    path = write_config(tmp_path, f'[workspaces.team]\nbackend = "local"\ndb = "{tmp_path}/t.db"\n')
    status, _, err = login(path, "team", "pw\n")
    assert status == 2 and "[workspaces.team] has no secret to store" in err
    status, _, err = login(path, "mial", "pw\n")
    assert status == 2 and "has no [workspaces.mial] (it has: team)" in err
    assert stored == {}
    # Before any table is written, the one password every adapter reads first can be stored already.
    status, _, _ = login(tmp_path / "none.toml", "mail", "pw\n")
    assert status == 0 and stored == {"mail": "pw"}


def test_the_login_command_reads_the_config_named_on_the_command_line(
    tmp_path: Path, stored: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, '[workspaces.mail]\nbackend = "imap"\nhost = "h"\nuser = "u@x"\n')
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    assert main(["--config", str(path), "login", "mail", "--stdin"]) == 0
    assert stored == {"mail": "from-stdin"}
    assert main(["--config", str(path), "login", "team", "--stdin"]) == 2
