"""Writing to the customer from the workspace: reply, reply all, forward, notes, drafts, macros, undo.

The composer widget edits; this decides what it opens with (the draft, the addresses), keeps the draft as it
is typed, turns what is submitted into a command for the outbox, and says "typing" to the others."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...backends.base import BackendError, Command, CommandKind, Note, Reply
from ...backends.base import Typing as TypingCommand
from ...widgets.composer import Composer, Outgoing
from ..core.draft_keeper import Saved
from ..core.model import EMAIL_LIKE, Channel, Conversation
from ..core.reply_recipients import REPLIES, has_mail, reply_recipients

if TYPE_CHECKING:
    from textual.timer import Timer

    from ..core.macros import FilledMacro
    from ..core.outbox import OutboxEntry
    from .closing_flow import ClosingFlow
    from .workspace_view import WorkspaceView


# How the "a draft is waiting" notice names each kind, and the key that continues it.
_DRAFT_WORDS = {
    "reply": ("reply", "r"),
    "reply_all": ("reply to all", "R"),
    "forward": ("forward", "f"),
    "note": ("note", "N"),
}


def default_subject(subject: str, *, forward: bool) -> str:
    """The hint of an empty subject field: what the backends send then (one prefix, never "Re: Re:")."""
    subject = " ".join(subject.split())
    if subject.lower().startswith(("re:", "fwd:", "fw:")):
        return subject
    return f"{'Fwd' if forward else 'Re'}: {subject}".rstrip()


class Composing:
    def __init__(self, view: WorkspaceView, closing: ClosingFlow) -> None:
        self.view = view
        self.closing = closing
        self._draft_timer: Timer | None = None
        self._typing_said = 0.0
        # Commands a macro adds once its reply, reviewed in the composer, is sent (tags, status...).
        self._macro_follow_up: dict[str, list[Command]] = {}

    # ------------------------------------------------------------------------------------------ opening

    def open(self, kind: str, conversation: Conversation | None = None) -> None:
        """Open the composer for `kind` (reply, reply_all, forward, note), continuing its draft if any."""
        view = self.view
        conversation = conversation or view.target()
        if conversation is not None and conversation.channel is Channel.PHONE and kind != "note":
            view.notify(
                "This is a call: speak to the customer; N writes an internal note.", severity="warning"
            )
            return
        needed = CommandKind.NOTE if kind == "note" else CommandKind.REPLY
        if conversation is None or not view.guard(conversation, needed):
            return
        if conversation.id != view.open_id:
            view.open_conversation(conversation.id)
        view.show_detail()
        app = view.main
        draft = app.load_draft(conversation.id)
        if draft is not None and kind in REPLIES and draft.kind in REPLIES:
            kind = draft.kind  # r or R continues the reply being written as it was (its Cc says to whom)
        if draft is not None and draft.kind != kind:
            draft = None
        # The reply continues its draft, key included: sent twice (two consoles, a restart), it is one reply.
        app.draft_keeper.begin(conversation.id, draft)
        email = conversation.channel in EMAIL_LIKE
        if draft is not None:
            body, to, cc, bcc, subject = draft.body, draft.to, draft.cc, draft.bcc, draft.subject
            attachments = draft.attachments
        else:
            body, bcc, subject, attachments = "", (), "", ()
            to, cc = self._recipients(kind, conversation) if email else ((), ())
        view.composer.open(
            kind,
            email=email,
            body=body,
            to=tuple(to),
            cc=tuple(cc),
            bcc=tuple(bcc),
            subject=subject,
            attachments=tuple(attachments),
            default_subject=default_subject(conversation.subject, forward=kind == "forward"),
        )

    def _recipients(self, kind: str, conversation: Conversation) -> tuple[tuple[str, ...], tuple[str, ...]]:
        view = self.view
        messages = view.transcript.messages
        customer = view.main.store.customers.get(conversation.customer_id)
        if kind in REPLIES and not has_mail(messages):
            # The history is still loading (the agent pressed r at once): addressed as soon as it is here.
            view.run_worker(self._address_when_loaded(conversation, kind), group="compose-to", exclusive=True)
        return reply_recipients(kind, messages, customer.email if customer else "")

    async def _address_when_loaded(self, conversation: Conversation, kind: str) -> None:
        view = self.view
        try:
            messages = await view.main.hub.history(conversation.id)
        except BackendError:
            return  # the address on file stays
        composer = view.composer
        if conversation.id != view.open_id or not composer.is_open or composer.kind != kind:
            return
        customer = view.main.store.customers.get(conversation.customer_id)
        composer.readdress(*reply_recipients(kind, messages, customer.email if customer else ""))

    def restore_draft(self, cid: str) -> None:
        """A conversation was opened: the composer closes, and a draft waiting in it is mentioned."""
        self.view.composer.hide()
        draft = self.view.main.load_draft(cid)
        if draft is not None:
            words, key = _DRAFT_WORDS.get(draft.kind, (draft.kind, "r"))
            self.view.notify(f"A draft {words} is waiting: press {key} to continue it.", timeout=3)

    # ------------------------------------------------------------------------------------------ typing

    def edited(self, message: Composer.Edited) -> None:
        view = self.view
        outgoing = message.outgoing
        if view.composer.untouched(outgoing):
            # Only what the composer opened with (the customer's address): no draft, as for an empty one.
            outgoing = Outgoing(kind=outgoing.kind, body="")
        self._say_typing(True)
        if self._draft_timer is not None:
            self._draft_timer.stop()
        cid = view.open_id
        if cid:
            self._draft_timer = view.set_timer(0.3, lambda: view.main.save_draft(cid, outgoing))

    def _say_typing(self, typing: bool) -> None:
        """Tell other agents (collision warning) and the chat customer that I am typing, at most every 3 s."""
        app = self.view.main
        conversation = app.store.conversations.get(self.view.open_id or "")
        if conversation is None or not app.hub.supports(CommandKind.TYPING, conversation):
            return
        now = app.clock()
        if typing and now - self._typing_said < 3.0:
            return
        self._typing_said = now if typing else 0.0
        app.send(TypingCommand(conversation_id=conversation.id, typing=typing))

    def opened(self, message: Composer.Opened) -> None:
        self.view.show_composing(True)  # the screen gives the composer room on small terminals

    def closed(self, message: Composer.Closed) -> None:
        self.view.show_composing(False)
        if message.left:
            self._say_typing(False)
            self.view.queue.focus()

    def edit_externally(self) -> None:
        composer = self.view.composer
        text = self.view.main.edit_externally(composer.text_area.text)
        if text is not None:
            composer.text_area.load_text(text)

    # ------------------------------------------------------------------------------------------ sending

    def submitted(self, message: Composer.Submitted) -> None:
        view = self.view
        app = view.main
        self._say_typing(False)
        conversation = view.current_conversation()
        if conversation is None:
            return
        outgoing = message.outgoing
        composer = view.composer
        if outgoing.kind == "forward" and not outgoing.to:
            # Said now, with the composer still open, not by the backend in a toast ten seconds later.
            view.notify("A forward needs a recipient: fill in To.", severity="error", timeout=6)
            return
        composer.close()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        # The draft is not removed here: only once the reply is journalled (DraftKeeper).
        key = app.draft_keeper.take(conversation.id)
        if outgoing.kind == "note":
            note = Note(conversation_id=conversation.id, body=outgoing.body, key=key)
            app.send_composed(conversation.id, outgoing, note, undo=False, done="Note saved")
        else:
            reply = Reply(
                conversation_id=conversation.id,
                body=outgoing.body,
                to=outgoing.to,
                cc=outgoing.cc,
                bcc=outgoing.bcc,
                subject=outgoing.subject,
                attachments=outgoing.attachments,
                forward=outgoing.kind == "forward",
                reply_all=outgoing.kind == "reply_all",
                key=key,
            )
            live = conversation.channel.is_live
            app.send_composed(conversation.id, outgoing, reply, undo=not live, done="Sent")
        if outgoing.kind != "note":
            for command in self._macro_follow_up.pop(conversation.id, []):
                view.send(command)
        if conversation.channel is Channel.CHAT:
            composer.open("reply", email=False)  # keep chatting
        else:
            view.queue.focus()

    async def take_back_for_editing(self, entry: OutboxEntry) -> bool:
        """From the outbox view: the reply or note becomes a draft again (saved to disk first), then it is
        withdrawn from the outbox, then the composer opens on it. Same key: if an earlier attempt did reach
        the backend, the edited one is recognised there instead of reaching the customer a second time."""
        view = self.view
        command = entry.command
        if not isinstance(command, Reply | Note):
            return False
        cid = command.conversation_id
        if isinstance(command, Note):
            kind = "note"
            outgoing = Outgoing(kind=kind, body=command.body)
        else:
            kind = "forward" if command.forward else "reply_all" if command.reply_all else "reply"
            outgoing = Outgoing(
                kind=kind,
                body=command.body,
                to=command.to,
                cc=command.cc,
                bcc=command.bcc,
                subject=command.subject,
                attachments=command.attachments,
            )
        app = view.main
        saved = await app.draft_keeper.save_now(cid, outgoing, command.key, revive=True)
        if app.outbox is None or saved is not Saved.YES:
            return False  # nothing withdrawn: it stays in the outbox
        if not await app.outbox.withdraw(entry.id):
            await app.draft_keeper.sent(cid, command.key)  # it is being sent: the copy is no draft
            view.notify("Too late to edit: it is being sent.", severity="warning")
            return False
        conversation = app.store.conversations.get(cid)
        if conversation is None:
            view.notify("Withdrawn and kept as a draft: open its conversation and press r.", timeout=6)
            return True
        view.queue.select_id(cid)  # the row under the cursor is the one being edited, when it is listed
        view.open_conversation(cid)
        self.open(kind, conversation)
        return True

    def undo(self) -> None:
        self.view.main.undo_last()

    # ------------------------------------------------------------------------------------------ macros

    def macro(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.REPLY):
            return
        # Loaded on first use: the first screen does not need the macro library.
        from ..core.macros import MacroContext
        from .macro_picker import MacroPicker

        app = view.main
        me = app.store.agents.get(app.me)
        context = MacroContext(
            conversation=conversation,
            customer=app.store.customers.get(conversation.customer_id),
            agent_name=me.name if me else app.config.agent_name,
        )
        cid = conversation.id
        view.ask(MacroPicker(app.macros(), context), lambda filled: filled and self._apply_macro(cid, filled))

    def _apply_macro(self, cid: str, filled: FilledMacro) -> None:
        """Send-now macros go out whole; the others fill the composer and act when the reply is sent."""
        view = self.view
        conversation = view.main.store.conversations.get(cid)
        if conversation is None:
            return
        if filled.send_now:
            for command in filled.commands(cid, channel=conversation.channel, state=conversation.state):
                view.send(command)
            view.notify(f"Macro {filled.macro.id}: sent")
        else:
            self._macro_follow_up[cid] = filled.follow_up(
                cid, channel=conversation.channel, state=conversation.state
            )
            if cid != view.open_id:
                view.open_conversation(cid)
            view.show_detail()
            email = conversation.channel in EMAIL_LIKE
            to, cc = self._recipients("reply", conversation) if email else ((), ())
            view.composer.open("reply", email=email, body=filled.text, to=to, cc=cc)
        if filled.macro.needs_disposition(conversation.channel):
            self.closing.ask_disposition(cid)
