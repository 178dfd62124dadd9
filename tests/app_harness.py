"""Building the console over a real local workspace file for Pilot tests, with a fixed clock if asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.config import load_config
from standardiste.console.core.model import Channel, Customer, Direction, Priority
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.ui.app import StandardisteApp
from standardiste.widgets.queue_list import QueueList
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip

T0 = 1_764_000_000.0  # a fixed "now" for screens that must look the same on every run


@dataclass(frozen=True, slots=True)
class Contact:
    channel: Channel
    name: str
    language: str
    subject: str
    body: str = "Hello, where is my parcel?"
    age: float = 60.0
    priority: Priority = Priority.NORMAL
    tags: tuple[str, ...] = ()


DEFAULT_CONTACTS: tuple[Contact, ...] = (
    Contact(Channel.PHONE, "Anna Müller", "de", "Paket nicht angekommen", age=40),
    Contact(Channel.CHAT, "Jean Dupont", "fr", "Où est mon colis ?", age=25),
    Contact(Channel.CHAT, "Emma de Vries", "nl", "Bestelling wijzigen", age=12),
    Contact(Channel.CALLBACK, "Luca Rossi", "it", "Richiamata: rimborso", age=300),
    Contact(Channel.EMAIL, "John Smith", "en", "Refund for order 1042", age=4000, tags=("refund",)),
    Contact(Channel.EMAIL, "María García", "es", "Devolución del pedido", age=7000),
    Contact(Channel.FORM, "Sven Larsson", "sv", "Betalning säkerhet", age=900),
    Contact(Channel.SOCIAL, "Ola Nordmann", "nb", "Hvor er pakken min?", age=1800),
)


def seed(path: Path, contacts: Iterable[Contact] = DEFAULT_CONTACTS, *, now: float = T0) -> list[str]:
    ws = Workspace(path, clock=lambda: now)
    sla = SlaPolicy()
    ids = []
    for index, contact in enumerate(contacts):
        created = now - contact.age
        customer = Customer(
            f"cust-{index}",
            contact.name,
            contact.language,
            email=f"customer{index}@example.com",
            phone=f"+33 6 00 00 00 {index:02d}",
        )
        cid = ws.create_conversation(
            channel=contact.channel,
            customer=customer,
            subject=contact.subject,
            created_at=created,
            priority=contact.priority,
            tags=contact.tags,
            sla_due_at=sla.due_at(contact.channel, created, contact.priority),
            callback_number=customer.phone if contact.channel is Channel.CALLBACK else "",
        )
        ws.add_message(
            cid, direction=Direction.INBOUND, body=contact.body, author=contact.name, created_at=created
        )
        ids.append(f"local:{cid}")
    ws.close()
    return ids


def make_app(
    tmp_path: Path,
    *,
    config_text: str = 'agent = "alice"\nname = "Alice"\nundo_seconds = 0\nbell = false\n',
    clock: Callable[[], float] | None = None,
    backend: object | None = None,
) -> StandardisteApp:
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text, encoding="utf-8")
    config = load_config(config_path)
    backends = (
        [backend]
        if backend is not None
        else [LocalBackend(tmp_path / "workspace.db", agent_id=config.agent_id)]
    )
    kwargs = {"clock": clock} if clock is not None else {}
    return StandardisteApp(
        config, backends, drafts_path=tmp_path / "drafts.db", outbox_path=tmp_path / "outbox.db", **kwargs
    )  # type: ignore[arg-type]


POLL_SECONDS = 0.05  # between two looks at a condition: a few frames, well under the backend's 0.2 s poll
# A reply sent twice would be in the workspace file within this: two rounds of the outbox (every 0.5 s).
A_DUPLICATE_WOULD_SHOW = 1.0


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0, pilot: object | None = None) -> None:
    """Poll until `condition()` holds (the local backend polls its file every 0.2 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        if pilot is not None:
            await pilot.pause(POLL_SECONDS)  # type: ignore[attr-defined]
        else:
            await asyncio.sleep(POLL_SECONDS)


async def wait_for_screen(app: object, kind: type | str, pilot: object, timeout: float = 5.0) -> None:
    """Until the screen on top is a `kind`: a class, or its name for screens a test does not import."""

    def shown() -> bool:
        screen = app.screen  # type: ignore[attr-defined]
        return isinstance(screen, kind) if isinstance(kind, type) else type(screen).__name__ == kind

    await wait_for(shown, timeout=timeout, pilot=pilot)


async def stays(condition: Callable[[], bool], seconds: float, pilot: object) -> None:
    """Check `condition()` holds for the whole of `seconds` (for what must not happen in that time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        assert condition(), "condition broken before the time was up"
        await pilot.pause(POLL_SECONDS)  # type: ignore[attr-defined]
    assert condition(), "condition broken before the time was up"


def row_text(queue: QueueList, conversation_id: str) -> str:
    """The queue row of one conversation as drawn (the list's own render_line), for a visible row."""
    index = queue.view.index_of(conversation_id)
    assert index is not None, conversation_id
    return queue.render_line(index - queue.scroll_offset.y).text


def drawn_lines(screen: Screen[object]) -> list[Strip]:
    """The lines each widget shown on `screen` draws (Widget.render_lines, what the compositor puts together).

    A widget partly scrolled out is checked whole: more than the screen shows, never less."""
    lines: list[Strip] = []
    for widget in screen.walk_children(with_self=False):
        if widget.display and widget.region.area:
            lines += widget.render_lines(Region(0, 0, *widget.outer_size))
    return lines
