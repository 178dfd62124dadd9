"""The conversation open in the detail pane: its header, call panel and customer card drawn from the store,
and, as it opens, its history, its customer and the agent's viewing mark fetched through the hub."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ...backends.base import BackendError, CommandKind, Viewing
from ...widgets.call_panel import CallPanel
from ...widgets.customer_card import CustomerCard
from ...widgets.detail_header import DetailHeader
from ...widgets.transcript import Transcript
from ..core.model import Channel, Conversation, Message

if TYPE_CHECKING:
    from .composing import Composing
    from .workspace_view import WorkspaceView


class DetailPane:
    def __init__(self, view: WorkspaceView, composing: Composing) -> None:
        self.view = view
        self.composing = composing

    def open(self, cid: str) -> None:
        view = self.view
        conversation = view.main.store.conversations.get(cid)
        if conversation is None:
            return
        changed = cid != view.open_id
        view.open_id = cid
        view.query_one("#nothing-open").display = False
        self.show_header()
        if changed:
            view.transcript.show([], conversation.channel)
            view.run_worker(self._load_history(cid), group="history", exclusive=True)
            if conversation.customer_id not in view.main.store.customers:
                view.run_worker(self._load_customer(conversation), group="customer")
            view.run_worker(self._announce_viewing(cid), group="viewing")
            self.composing.restore_draft(cid)

    def show_header(self) -> None:
        """The open conversation's header, call panel and customer card, as the store has them now."""
        view = self.view
        app = view.main
        conversation = app.store.conversations.get(view.open_id or "")
        headers = view.query(DetailHeader)  # none while the console closes (a late worker may call)
        if conversation is None or not headers:
            return
        now = app.clock()
        headers.first().show(
            conversation,
            now,
            app.config.sla.deadline(conversation),
            "customer" in app.store.typing(conversation.id, now),
            app.store.viewers(conversation.id, besides=app.me),
        )
        is_call = conversation.channel in (Channel.PHONE, Channel.CALLBACK)
        view.show_call_panel(is_call)
        if is_call:
            view.query_one(CallPanel).show(
                conversation, app.store.customers.get(conversation.customer_id), now
            )
        history = app.store.of_customer(conversation.customer_id) if conversation.customer_id else []
        view.query_one(CustomerCard).show(
            app.store.customers.get(conversation.customer_id),
            conversation.customer_name,
            history,
            conversation.id,
            app.store.csat_by_conversation,  # this contact's survey, and each past one's score
        )

    async def _load_history(self, cid: str) -> None:
        view = self.view
        try:
            messages: list[Message] = await view.main.hub.history(cid)
        except BackendError as error:
            view.notify(f"Cannot load the conversation: {error}", severity="error")
            return
        conversation = view.main.store.conversations.get(cid)
        # The answer may come back after the agent moved on, or while the console is closing.
        transcripts = view.query(Transcript)
        if cid == view.open_id and conversation is not None and transcripts:
            transcripts.first().show(messages, conversation.channel)

    async def _load_customer(self, conversation: Conversation) -> None:
        """Customers are fetched when one of their conversations opens, not 30k of them at start."""
        store = self.view.main.store
        with contextlib.suppress(BackendError):
            customer = await self.view.main.hub.customer(conversation)
            if customer is not None:
                store.customers[customer.id] = customer
                if self.view.open_id == conversation.id:
                    self.show_header()

    async def _announce_viewing(self, cid: str) -> None:
        hub = self.view.main.hub
        if hub.supports(CommandKind.VIEWING, self.view.main.store.conversations.get(cid)):
            with contextlib.suppress(BackendError):
                await hub.perform(Viewing(conversation_id=cid))


__all__ = ["DetailPane"]
