"""console/core/secrets.py: keyring when there is one, the environment variable when there is none."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from helpdesk_harness import MemoryKeyring
from helpdesk_harness import memory_keyring as in_memory
from keyring.backends import fail
from standardiste.backends.base import AuthError
from standardiste.console.core import secrets


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    # The help-desk tests' keyring in memory (the machines here and CI have none), for workspace "mail".
    with in_memory(monkeypatch, "mail") as backend:
        yield backend


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("STANDARDISTE_SECRET_MAIL", "STANDARDISTE_SECRET_SHOP_EU_MAIL"):
        monkeypatch.delenv(name, raising=False)
    # `login` reads the config file for the workspace's adapter: never the user's own.
    monkeypatch.setenv("STANDARDISTE_CONFIG", str(tmp_path / "no-config.toml"))


def test_env_name_is_upper_case_with_underscores() -> None:
    assert secrets.env_name("mail") == "STANDARDISTE_SECRET_MAIL"
    assert secrets.env_name("shop-eu.mail") == "STANDARDISTE_SECRET_SHOP_EU_MAIL"


def test_store_and_load_through_the_keyring(memory_keyring: MemoryKeyring) -> None:
    secrets.store_secret("mail", "hunter2")
    assert memory_keyring.store[("standardiste", "mail")] == "hunter2"
    assert secrets.load_secret("mail") == "hunter2"
    assert secrets.secret_for("mail") == "hunter2"
    assert secrets.forget_secret("mail")
    with pytest.raises(AuthError, match="standardiste login mail"):
        secrets.secret_for("mail")


def test_environment_wins_over_the_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets.store_secret("shop-eu.mail", "from-keyring")
    monkeypatch.setenv("STANDARDISTE_SECRET_SHOP_EU_MAIL", "from-env")
    assert secrets.secret_for("shop-eu.mail") == "from-env"


def test_without_keyring_loading_says_which_variable_to_set(no_keyring: None) -> None:
    with pytest.raises(AuthError) as caught:
        secrets.secret_for("mail")
    message = str(caught.value)
    assert "no system keyring" in message
    assert "STANDARDISTE_SECRET_MAIL" in message


def test_without_keyring_the_variable_is_enough(no_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDARDISTE_SECRET_MAIL", "pw")
    assert secrets.secret_for("mail") == "pw"


def test_login_without_keyring_explains_and_writes_nothing(
    no_keyring: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    out, err = io.StringIO(), io.StringIO()
    status = secrets.login_command(
        "mail", stdin_secret=True, stdin=io.StringIO("Sup3r-secret\n"), stdout=out, stderr=err
    )
    assert status == 1
    assert "STANDARDISTE_SECRET_MAIL" in err.getvalue()
    assert "Sup3r-secret" not in err.getvalue() + out.getvalue()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(b"Sup3r-secret" not in p.read_bytes() for p in written)


def test_login_reads_one_line_from_stdin(memory_keyring: MemoryKeyring) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = secrets.login_command(
        "mail", stdin_secret=True, stdin=io.StringIO("pa ss\r\nnext\n"), stdout=out, stderr=err
    )
    assert status == 0, err.getvalue()
    assert memory_keyring.store[("standardiste", "mail")] == "pa ss"
    assert "pa ss" not in out.getvalue()


def test_login_with_the_prompt(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str, stream: object = None) -> str:
        prompts.append(prompt)
        return "typed"

    monkeypatch.setattr(secrets.getpass, "getpass", fake_getpass)
    assert secrets.login_command("mail", stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert prompts == ["Password for workspace mail: "]
    assert memory_keyring.store[("standardiste", "mail")] == "typed"


def test_login_refuses_an_empty_secret(memory_keyring: MemoryKeyring) -> None:
    err = io.StringIO()
    assert secrets.login_command("mail", stdin_secret=True, stdin=io.StringIO("\n"), stderr=err) == 2
    assert memory_keyring.store == {}
