"""An Asterisk workspace as a person configures it: the `[workspaces.NAME]` table checked key by key, the ARI
password through `standardiste login` (never in the file, never in an error), a wrong password or a stopped
Asterisk said plainly, and simulated callers (`python -m standardiste.backends.asterisk.callers`) ringing in
the console."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asterisk_server import AsteriskServer, asterisk, free_port
from helpdesk_harness import MemoryKeyring
from helpdesk_harness import memory_keyring as shared_memory_keyring
from helpers.asterisk_kit import make_backend
from standardiste.backends.asterisk import AsteriskBackend, parse_settings
from standardiste.backends.base import AuthError, BackendContext, Invalid, Unavailable, available_backends
from standardiste.backends.testing import watching
from standardiste.console.core import secrets
from standardiste.console.core.model import Channel, State
from standardiste.console.core.workspaces import open_workspace

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

TABLE: dict[str, Any] = {
    "backend": "asterisk",
    "url": "http://127.0.0.1:8088/ari",
    "user": "console",
    "phone": "PJSIP/alice",
}


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    with shared_memory_keyring(monkeypatch, "pbx") as backend:
        yield backend


def test_the_adapter_is_found_by_its_entry_point() -> None:
    assert available_backends()["asterisk"].load() is AsteriskBackend


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"url": "127.0.0.1:8088"}, "[workspaces.pbx] url: expected http://"),
        ({"phone": "alice"}, "[workspaces.pbx] phone: expected an endpoint"),
        ({"agent_phones": ["bob"]}, "[workspaces.pbx] agent_phones: expected left=right"),
        ({"agent_phones": ["bob=nowhere"]}, "[workspaces.pbx] agent_phones: bob: expected an endpoint"),
        ({"queues": []}, "[workspaces.pbx] queues: at least one queue"),
        ({"queue_argument": "queue"}, "[workspaces.pbx] queue_argument: must hold {queue}"),
        ({"callback_dial": "PJSIP/trunk"}, "[workspaces.pbx] callback_dial: must hold {number}"),
        ({"ring_seconds": 0}, "[workspaces.pbx] ring_seconds: expected a positive number"),
        ({"password": "hunter2"}, "standardiste login pbx"),
        ({"directory": "/nonexistent/customers.csv"}, "[workspaces.pbx] directory: cannot read"),
    ],
)
def test_a_table_it_cannot_use_is_refused_naming_the_key(change: dict[str, Any], said: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_settings("pbx", {**TABLE, **change})
    assert said in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_languages_by_queue_and_number_prefix() -> None:
    settings = parse_settings(
        "pbx",
        {**TABLE, "queues": ["sales", "ventes"], "languages": ["+33=fr", "+3=it", "ventes=fr", "+49=de"]},
    )
    assert settings.language_of("+33123", "sales") == "fr"  # the longest prefix
    assert settings.language_of("+39123", "sales") == "it"
    assert settings.language_of("+49123", "ventes") == "fr"  # the queue's language first
    assert settings.language_of("+1555", "sales") == "en"
    assert settings.queue_of(["queue-ventes"]) == "ventes" and settings.queue_of(["other"]) is None


async def test_login_stores_the_ari_password_and_the_console_connects_with_it(
    asterisk: AsteriskServer, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[workspaces.pbx]\nbackend = "asterisk"\nurl = "{asterisk.url}"\nuser = "{asterisk.user}"\n'
        f'app = "{asterisk.app}"\nphone = "Local/alice@agent-phones"\nqueues = ["sales"]\n'
    )
    out, err = io.StringIO(), io.StringIO()
    status = secrets.login_command(
        "pbx",
        stdin_secret=True,
        stdin=io.StringIO(asterisk.password + "\n"),
        stdout=out,
        stderr=err,
        config_path=config,
    )
    assert status == 0, err.getvalue()
    assert memory_keyring.store[("standardiste", "pbx")] == asterisk.password
    assert asterisk.password not in out.getvalue() + err.getvalue()
    table = tomllib.loads(config.read_text())["workspaces"]["pbx"]
    context = BackendContext(agent_id="alice", data_dir=tmp_path / "data", secret=secrets.secret_for)
    backend, warnings = open_workspace("pbx", table, context, config)
    assert warnings == [] and isinstance(backend, AsteriskBackend)
    await backend.connect()
    try:
        async with watching(backend) as tail:
            await asyncio.to_thread(asterisk.call, "+33987654321", "Keyring Karl", "queue-sales")
            karl = await tail.arrival("Keyring Karl", 2)
            assert karl.state is State.RINGING and karl.queue == "sales"
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_a_wrong_password_is_an_auth_error_that_does_not_repeat_it(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda _: "Wr0ng-pass-phrase")
    backend = AsteriskBackend.from_config(
        "pbx", {**TABLE, "url": asterisk.url, "user": asterisk.user}, context
    )
    with pytest.raises(AuthError) as refused:
        await backend.connect()
    assert "Wr0ng-pass-phrase" not in str(refused.value) and "ari.conf" in str(refused.value)
    await backend.close()


async def test_a_stopped_asterisk_is_unavailable_said_plainly(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/ari"
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda _: "secret-Pa55")
    backend = AsteriskBackend.from_config("pbx", {**TABLE, "url": url}, context)
    with pytest.raises(Unavailable, match="is Asterisk running"):
        await backend.connect()
    await backend.close()


async def test_simulated_callers_ring_in_the_console(asterisk: AsteriskServer, tmp_path: Path) -> None:
    backend = make_backend(asterisk, tmp_path / "data")
    await backend.connect()
    try:
        async with watching(backend) as tail:
            env = {**os.environ, "STANDARDISTE_ARI_PASSWORD": asterisk.password}
            command = [
                sys.executable, "-m", "standardiste.backends.asterisk.callers", "--url", asterisk.url,
                "--user", asterisk.user, "--calls", "6", "--rate", "0", "--queue", "sales", "--queue", "support",
                "--callbacks", "0.5", "--seed", "7",
            ]  # fmt: skip
            done = await asyncio.to_thread(
                subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert len(done.stdout.splitlines()) == 6
            await tail.wait_for(
                lambda: len({e.conversation.id for e in tail.events if hasattr(e, "conversation")}) >= 6,
                5,
                "six calls",
            )
            found = {e.conversation.id: e.conversation for e in tail.events if hasattr(e, "conversation")}
            assert {c.queue for c in found.values()} <= {"sales", "support"}
            assert {c.channel for c in found.values()} == {Channel.PHONE, Channel.CALLBACK}
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


def test_the_callers_say_when_asterisk_refuses_without_the_password(asterisk: AsteriskServer) -> None:
    env = {**os.environ, "STANDARDISTE_ARI_PASSWORD": "Wr0ng-pass-phrase"}
    command = [sys.executable, "-m", "standardiste.backends.asterisk.callers", "--url", asterisk.url, "--user", asterisk.user, "--calls", "1"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "401" in done.stderr
    assert "Wr0ng-pass-phrase" not in done.stdout + done.stderr


async def test_simulated_callers_from_a_workspace_table_call_into_its_queues(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    """What `standardiste simulate --asterisk NAME` runs: the table's URL, user, queues and queue argument."""
    from standardiste.backends.asterisk.callers import run_for_workspace

    backend = make_backend(
        asterisk, tmp_path / "data", queues=["ventes", "hotline"], queue_argument="q-{queue}"
    )
    table = {
        **TABLE,
        "url": asterisk.url,
        "user": asterisk.user,
        "queues": ["ventes", "hotline"],
        "queue_argument": "q-{queue}",
    }
    await backend.connect()
    try:
        async with watching(backend) as tail:
            placed = await run_for_workspace(table, asterisk.password, calls=4, rate=0, seed=3)
            assert len(placed) == 4
            await tail.wait_for(
                lambda: len({e.conversation.id for e in tail.events if hasattr(e, "conversation")}) >= 4,
                5,
                "four calls",
            )
            queues = {e.conversation.queue for e in tail.events if hasattr(e, "conversation")}
            assert queues <= {"ventes", "hotline"} and queues == {p.queue for p in placed}
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


def test_a_directory_line_without_a_number_is_refused_naming_it(tmp_path: Path) -> None:
    directory = tmp_path / "customers.csv"
    directory.write_text("number,name\n+331,Ann\n,Bob\n", encoding="utf-8")
    with pytest.raises(Invalid, match="line 3: a number and a name"):
        parse_settings("pbx", {**TABLE, "directory": str(directory)})
