"""The example adapter of docs/adapters.md, loaded as a third-party package is: through its entry point.

tests/example_adapter/ holds the package (`standardiste_example`) and its `.dist-info`, as pip would install
them; putting that folder on `sys.path` is all it takes for `standardiste` to find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from standardiste.backends.base import (
    Accept,
    AuthError,
    Backend,
    BackendContext,
    Conflict,
    ConversationUpserted,
    EndChat,
    Invalid,
    MessageAdded,
    NotFound,
    Reply,
    Unavailable,
    Unsupported,
    WrapUp,
    available_backends,
    load_backend_class,
    split_id,
)
from standardiste.backends.testing import BackendContract
from standardiste.console.core import secrets
from standardiste.console.core.config import ConfigError, load_config
from standardiste.console.core.model import Channel, Conversation, Direction, State
from standardiste.console.core.workspaces import open_workspace

EXAMPLE = Path(__file__).resolve().parent.parent / "example_adapter"


def _forget_example() -> None:
    for module in [
        m for m in sys.modules if m == "standardiste_example" or m.startswith("standardiste_example.")
    ]:
        del sys.modules[module]


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example distribution on the path, as `pip install standardiste-example` would leave it."""
    _forget_example()
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield
    _forget_example()


def brand(tmp_path: Path) -> str:
    """A brand of this test's own: one service per brand in the process, so a fresh one."""
    return f"shop-{tmp_path.name}"


def config_file(tmp_path: Path, table: str, *, with_brand: bool = True) -> Path:
    path = tmp_path / "config.toml"
    head = f'backend = "example"\nbrand = "{brand(tmp_path)}"\n' if with_brand else 'backend = "example"\n'
    path.write_text(f'agent = "alice"\n\n[workspaces.demo]\n{head}{table}', encoding="utf-8")
    return path


def context(tmp_path: Path, token: str = "t0ken") -> BackendContext:
    def secret(name: str) -> str:
        if not token:
            raise AuthError(f"no password is stored for workspace {name!r}")
        return token

    return BackendContext(agent_id="alice", data_dir=tmp_path, secret=secret)


def open_demo(
    tmp_path: Path, table: str, token: str = "t0ken", with_brand: bool = True
) -> tuple[Any, list[str]]:
    path = config_file(tmp_path, table, with_brand=with_brand)
    config = load_config(path)
    return open_workspace("demo", config.workspaces["demo"], context(tmp_path, token), path)


# ---------------------------------------------------------------------------------------------- discovery


def test_listed_without_being_imported(installed: None) -> None:
    found = available_backends()
    assert found["example"].value == "standardiste_example:EchoChatBackend"
    assert found["example"].dist is not None and found["example"].dist.name == "standardiste-example"
    assert {"local", "imap"} <= set(found)
    assert "standardiste_example" not in sys.modules


def test_not_listed_when_not_installed() -> None:
    _forget_example()
    assert "example" not in available_backends()
    with pytest.raises(Invalid, match="no backend named 'example'"):
        load_backend_class("example")


def test_loads_through_its_entry_point(installed: None) -> None:
    cls = load_backend_class("example")
    assert cls.__module__ == "standardiste_example.backend" and cls.__name__ == "EchoChatBackend"
    assert [s.name for s in cls.settings if s.secret] == ["token"]


# ---------------------------------------------------------------------------------------------- settings


def test_built_from_its_table(installed: None, tmp_path: Path) -> None:
    backend, warnings = open_demo(tmp_path, "customers = 2\nanswer_after = 0.05\nqueue = 'vip'\n")
    assert warnings == []
    assert (backend.name, backend.workspace_id) == ("demo", f"example:{brand(tmp_path)}")
    assert len(backend.service.chats) == 2 and backend.service.answer_after == 0.05
    assert backend._queue_name == "vip"


def test_a_bad_value_names_the_file_the_table_and_the_key(installed: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        open_demo(tmp_path, 'customers = "abc"\n')
    assert str(caught.value) == (
        f"{tmp_path / 'config.toml'}: [workspaces.demo] customers: expected a whole number, got 'abc'"
    )
    with pytest.raises(ConfigError, match=r"\[workspaces.demo\] brand: required \(the shop"):
        open_demo(tmp_path, "customers = 1\n", with_brand=False)
    with pytest.raises(ConfigError, match=r"language: expected one of en, fr, de, got 'klingon'"):
        open_demo(tmp_path, 'language = "klingon"\n')
    # The adapter's own check, named the same way.
    with pytest.raises(ConfigError, match=r"\[workspaces.demo\] customers: expected 0 or more, got -1"):
        open_demo(tmp_path, "customers = -1\n")


def test_a_secret_in_the_file_is_refused_without_echoing_it(installed: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        open_demo(tmp_path, 'token = "s3cr3t-value"\n')
    assert "standardiste login demo" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)


def test_an_unknown_key_is_a_warning_with_the_closest_name(installed: None, tmp_path: Path) -> None:
    backend, warnings = open_demo(tmp_path, "customer = 4\n")
    assert warnings == ["unknown key 'workspaces.demo.customer' (did you mean 'customers'?)"]
    assert len(backend.service.chats) == 3  # the default: the mistyped key was not read


def test_login_asks_for_the_secret_the_adapter_declares(
    installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: dict[str, str] = {}
    monkeypatch.setattr(secrets, "store_secret", lambda name, secret: stored.__setitem__(name, secret))
    prompts: list[str] = []
    monkeypatch.setattr(
        secrets.getpass, "getpass", lambda prompt, stream=None: prompts.append(prompt) or "tok"
    )
    out = io.StringIO()
    path = config_file(tmp_path, "")
    assert secrets.login_command("demo", stdout=out, stderr=io.StringIO(), config_path=path) == 0
    assert prompts == ["Token for workspace demo: "]
    assert stored == {"demo": "tok"}
    assert "The token of workspace 'demo' is stored" in out.getvalue()


# ---------------------------------------------------------------------------------------------- behaviour


@pytest.fixture
async def demo(installed: None, tmp_path: Path) -> AsyncIterator[Any]:
    """The example backend of a `[workspaces.demo]` table with one waiting chat, connected."""
    backend, _ = open_demo(tmp_path, "customers = 1\nanswer_after = 0.05\n")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
        await backend.service.stop()


async def next_batch(events: Any) -> list[Any]:
    return list(await asyncio.wait_for(anext(events), timeout=5))


async def test_a_reply_is_answered_by_the_customer(demo: Any) -> None:
    (chat,) = (await demo.snapshot()).conversations
    assert chat.id == "demo:1" and chat.state is State.WAITING
    events = demo.events()
    await demo.perform(Accept(conversation_id=chat.id, agent_id="alice", key="k1"))
    (upserted,) = await next_batch(events)
    assert isinstance(upserted, ConversationUpserted) and upserted.conversation.assignee == "alice"
    await demo.perform(Reply(conversation_id=chat.id, agent_id="alice", body="On its way.", key="k2"))
    added, upserted = await next_batch(events)
    assert isinstance(added, MessageAdded) and added.message.direction is Direction.OUTBOUND
    assert upserted.conversation.first_response_at is not None
    answer, _ = await next_batch(events)
    assert answer.message.direction is Direction.INBOUND
    assert answer.message.body == "Thanks. How long will it take?"
    # The same key again changes nothing and announces nothing.
    again = await demo.perform(Reply(conversation_id=chat.id, agent_id="alice", body="On its way.", key="k2"))
    assert again.message == added.message
    assert [m.body for m in await demo.history(chat.id)] == [
        "My parcel has not arrived.",
        "On its way.",
        "Thanks. How long will it take?",
    ]


async def test_typed_errors(demo: Any, tmp_path: Path) -> None:
    unauthorised, _ = open_demo(tmp_path, "", token="")
    with pytest.raises(AuthError):
        await unauthorised.connect()
    with pytest.raises(NotFound):
        await demo.history("demo:99")
    with pytest.raises(NotFound):
        await demo.history("local:1")
    with pytest.raises(Invalid):
        await demo.history("1")
    with pytest.raises(Unsupported):
        await demo.perform(WrapUp(conversation_id="demo:1", agent_id="alice", disposition="x"))
    await demo.perform(Accept(conversation_id="demo:1", agent_id="bob"))
    with pytest.raises(Conflict) as caught:
        await demo.perform(Accept(conversation_id="demo:1", agent_id="alice"))
    assert caught.value.owner == "bob"
    await demo.perform(EndChat(conversation_id="demo:1", agent_id="bob"))
    with pytest.raises(Conflict, match="ended"):
        await demo.perform(Reply(conversation_id="demo:1", agent_id="bob", body="hello?"))
    demo.service.set_down(True)
    with pytest.raises(Unavailable):
        await demo.snapshot()


# ---------------------------------------------------------------------------------------------- the kit


class ServiceTraffic:
    """Customers writing to the example service, as the outside world does."""

    channels: Sequence[Channel] = (Channel.CHAT,)

    def __init__(self, service: Any) -> None:
        self.service = service

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        self.service.open_chat(customer, f"Chat {token}", f"Hello {token}")

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        self.service.customer_writes(int(split_id(conversation.id)[1]), f"Again {token}")


class TestExampleContract(BackendContract):
    """The example adapter passes the contract kit every adapter runs (backends/testing.py)."""

    @pytest.fixture
    async def backend(self, installed: None, tmp_path: Path) -> AsyncIterator[Backend]:
        backend, _ = open_demo(tmp_path, "customers = 0\nanswer_after = 0.05\n")
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()
            await backend.service.stop()

    @pytest.fixture
    def traffic(self, backend: Any) -> ServiceTraffic:
        return ServiceTraffic(backend.service)

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        """The service goes down for every client; customers' messages still reach it."""
        service = backend.service  # type: ignore[attr-defined]
        service.set_down(True)
        try:
            yield
        finally:
            service.set_down(False)

    async def reopen(self, backend: Backend) -> Backend:
        # A restarted console builds its backend from the same table: the same service, so the same keys.
        service = backend.service  # type: ignore[attr-defined]
        rebuilt, _ = open_workspace(
            "demo",
            {"backend": "example", "brand": service.brand},
            context(Path(".")),
            Path("config.toml"),
        )
        return rebuilt
