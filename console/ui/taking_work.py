"""Taking work and acting on what it holds: answer, claim, release, take the next best item, jump to a chat
session, merge two conversations of one customer, save attachments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ...backends.base import Accept, BackendError, Claim, CommandKind, Conflict, Merge, Release
from ..core.attachments import save_attachment
from ..core.model import Attachment, Channel, Conversation, Presence
from ..core.routing import ClaimCheck, Load, best_for, claim_check
from ..core.sanitize import sanitize
from .dialogs import ConfirmDialog, PickDialog, TextDialog

if TYPE_CHECKING:
    from .composing import Composing
    from .marked_rows import MarkedRows
    from .workspace_view import WorkspaceView


class TakingWork:
    def __init__(self, view: WorkspaceView, marks: MarkedRows, composing: Composing) -> None:
        self.view = view
        self.marks = marks
        self.composing = composing

    # ------------------------------------------------------------------------------------------ taking

    def accept(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation and view.guard(conversation, CommandKind.ACCEPT):

            def answer() -> None:
                view.send(Accept(conversation_id=conversation.id), done="Answered")
                if conversation.channel is Channel.CHAT:
                    # A chat answered is a chat to write in: what the agent types next is the reply, not
                    # queue commands (`u` released it, `x` closed it). The outbox sends the reply after the
                    # Accept, in order.
                    self.composing.open("reply", conversation)

            self._claim_then(conversation, answer)

    def claim(self) -> None:
        conversation = self.view.target()
        if conversation and self.view.guard(conversation, CommandKind.CLAIM):
            self._claim_then(conversation, lambda: None, force_claim=True)

    def _claim_then(
        self, conversation: Conversation, then: Callable[[], None], *, force_claim: bool = False
    ) -> None:
        """Working on someone else's conversation asks first (collision), then takes it."""
        view = self.view
        owner = conversation.assignee
        if claim_check(conversation, view.main.me) is ClaimCheck.ASK:

            def answer(yes: bool | None) -> None:
                if yes:
                    view.send(Claim(conversation_id=conversation.id, force=True), done=f"Taken from {owner}")
                    then()

            view.ask(ConfirmDialog(f"{owner} owns this conversation. Take it anyway?"), answer)
            return
        if force_claim and owner is None:
            view.send(Claim(conversation_id=conversation.id), done="Claimed")
        then()

    def release(self) -> None:
        for conversation in self.marks.targets():
            if self.view.guard(conversation, CommandKind.RELEASE):
                self.view.send(Release(conversation_id=conversation.id), done="Released to the queue")

    def next_best(self) -> None:
        view = self.view
        app = view.main
        me = app.store.agents.get(app.me or "")
        if me is None:
            view.notify("Not connected yet.", severity="warning")
            return
        now = app.clock()
        rules = app.config.routing
        load = Load.of(app.store.conversations.values(), me.id)
        candidates = best_for(me, app.store.conversations.values(), load, now, rules, limit=20)
        if candidates:
            # The keys typed after `n` are for the item it takes: they wait until it shows.
            view.run_worker(self._take_next(candidates, app.hold_keys()), group="next")
        elif me.presence is not Presence.AVAILABLE:
            view.notify(
                f"You are {me.presence.value}: P sets you available to take work.", severity="warning"
            )
        else:
            view.notify("Nothing waiting that you can take now (skills, languages, capacity). ✔")

    async def _take_next(self, candidates: list[Conversation], resume_keys: Callable[[], None]) -> None:
        try:
            await self._take_first(candidates)
        finally:
            resume_keys()

    async def _take_first(self, candidates: list[Conversation]) -> None:
        view = self.view
        for conversation in candidates[:20]:
            command = (
                Accept(conversation_id=conversation.id)
                if conversation.channel.is_live
                else Claim(conversation_id=conversation.id)
            )
            try:
                await view.main.hub.perform(command)
            except Conflict:
                continue  # someone else was faster: the next one
            except BackendError as error:
                view.notify(f"Cannot take {conversation.id}: {error}", severity="error")
                return
            view.show_taken(conversation.id)
            return
        view.notify("Others took everything first. Try n again.")

    # ------------------------------------------------------------------------------------------ moving to work

    def chat_session(self, number: int) -> None:
        """alt+N: my Nth open chat (oldest first), wherever the list is."""
        view = self.view
        app = view.main
        mine = sorted(
            (
                c
                for c in app.store.conversations.values()
                if c.channel is Channel.CHAT and c.assignee == app.me and not c.is_closed
            ),
            key=lambda c: c.created_at,
        )
        if not 1 <= number <= len(mine):
            view.notify(f"You have {len(mine)} chat session(s).")
            return
        chat = mine[number - 1]
        if not view.queue.select_id(chat.id):  # highlighted, so that the next key acts on it
            view.show_view("all")
            view.queue.select_id(chat.id)
        view.open_conversation(chat.id)
        view.show_detail()

    # ------------------------------------------------------------------------------------------ attachments

    def save_attachments(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None:
            return
        attachments = [a for m in view.transcript.messages for a in m.attachments]
        if not attachments or conversation.id != view.open_id:
            view.notify("No attachment in the open conversation.", severity="warning")
            return
        default = str(Path("~/Downloads").expanduser())
        cid = conversation.id
        view.ask(
            TextDialog(f"Save {len(attachments)} attachment(s) to folder", value=default),
            lambda folder: (
                folder
                and view.run_worker(
                    self._save_attachments(cid, attachments, Path(folder)), group="attachments"
                )
            ),
        )

    async def _save_attachments(self, cid: str, attachments: list[Attachment], folder: Path) -> None:
        view = self.view
        saved = []
        for attachment in attachments:
            try:
                content = await view.main.hub.attachment(cid, attachment)
                path = await asyncio.to_thread(save_attachment, folder, attachment.filename, content)
            except (BackendError, OSError, ValueError) as error:
                view.notify(f"{sanitize(attachment.filename, single_line=True)}: {error}", severity="error")
                continue
            saved.append(path.name)
        if saved:
            view.notify(f"Saved in {folder}: " + ", ".join(saved), timeout=6)

    # ------------------------------------------------------------------------------------------ merging

    def merge(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.MERGE):
            return
        others = [
            (c.id, f"{c.channel.value} · {c.state.value} · {sanitize(c.subject, single_line=True)[:50]}")
            for c in view.main.store.of_customer(conversation.customer_id)
            if c.id != conversation.id and c.backend == conversation.backend
        ]
        if not others:
            view.notify("This customer has no other conversation here.")
            return
        view.ask(
            PickDialog("Merge into this conversation", others),
            lambda other: other and self._confirm_merge(conversation, other),
        )

    def _confirm_merge(self, conversation: Conversation, other_id: str) -> None:
        """A merge moves every message and closes the other one: asked first, naming both, and held in the
        undo window like a close (ctrl+z withdraws it before it is done)."""
        view = self.view
        other = view.main.store.conversations.get(other_id)
        if other is None:
            return

        def named(c: Conversation) -> str:
            return f"{c.channel.value} “{sanitize(c.subject, single_line=True)[:40]}”"

        question = (
            f"Merge {named(other)} into {named(conversation)}? "
            f"Its messages move here, in time order, and it is closed."
        )

        def answer(yes: bool | None) -> None:
            if yes:
                view.send(
                    Merge(conversation_id=conversation.id, other_id=other_id),
                    undo=True,
                    done=f"Merged {named(other)} into {named(conversation)}",
                )

        view.ask(ConfirmDialog(question), answer)
