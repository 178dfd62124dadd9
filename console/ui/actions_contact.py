"""Acting on a contact from the workspace: take it, answer, hold, transfer, wrap up, tag, snooze."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import work

from ...backends.base import (
    Accept,
    BackendError,
    CallbackOutcome,
    Claim,
    CommandKind,
    Conflict,
    HangUp,
    Hold,
    Merge,
    Mute,
    PlaceCallback,
    Release,
    Resume,
    ScheduleCallback,
    SetPresence,
    SetPriority,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    WrapUp,
)
from ...widgets.transcript import Transcript
from ..core.attachments import save_attachment
from ..core.closing import Ask, plan_for
from ..core.model import (
    DEFAULT_DISPOSITIONS,
    Attachment,
    Channel,
    Conversation,
    Presence,
    Priority,
    State,
)
from ..core.presence import choices as presence_choices
from ..core.presence import validate_change
from ..core.routing import ClaimCheck, Load, Refusal, best_for, claim_check, transfer_refusal
from ..core.sanitize import sanitize
from ..core.sla import parse_duration, parse_when
from .dialogs import ConfirmDialog, PickDialog, TextDialog

SNOOZE_CHOICES: list[tuple[str, str]] = [
    ("15m", "15 minutes"),
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
]


class ContactActions:
    """Mixed into `WorkspaceScreen`: everything done to a conversation but writing."""

    # ------------------------------------------------------------------------------------------ work

    def action_accept(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.ACCEPT):

            def answer() -> None:
                self._send(Accept(conversation_id=conversation.id), done="Answered")
                if conversation.channel is Channel.CHAT:
                    # A chat answered is a chat to write in: what the agent types next is the reply, not
                    # queue commands (`u` released it, `x` closed it). The outbox sends the reply after the
                    # Accept, in order.
                    self._open_composer("reply", conversation)

            self._claim_then(conversation, answer)

    def action_claim(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.CLAIM):
            self._claim_then(conversation, lambda: None, force_claim=True)

    def _claim_then(
        self, conversation: Conversation, then: Callable[[], None], *, force_claim: bool = False
    ) -> None:
        """Working on someone else's conversation asks first (collision), then takes it."""
        owner = conversation.assignee
        if claim_check(conversation, self.main.me) is ClaimCheck.ASK:

            def answer(yes: bool | None) -> None:
                if yes:
                    self._send(Claim(conversation_id=conversation.id, force=True), done=f"Taken from {owner}")
                    then()

            self.app.push_screen(ConfirmDialog(f"{owner} owns this conversation. Take it anyway?"), answer)
            return
        if force_claim and owner is None:
            self._send(Claim(conversation_id=conversation.id), done="Claimed")
        then()

    def action_release(self) -> None:
        for conversation in self._targets():
            if self._guard(conversation, CommandKind.RELEASE):
                self._send(Release(conversation_id=conversation.id), done="Released to the queue")

    def action_next_best(self) -> None:
        app = self.main
        me = app.store.agents.get(app.me or "")
        if me is None:
            self.notify("Not connected yet.", severity="warning")
            return
        now = app.clock()
        rules = app.config.routing
        load = Load.of(app.store.conversations.values(), me.id)
        candidates = best_for(me, app.store.conversations.values(), load, now, rules, limit=20)
        if candidates:
            # The keys typed after `n` are for the item it takes: they wait until it shows.
            self._take_next(candidates, self.main.hold_keys())
        elif me.presence is not Presence.AVAILABLE:
            self.notify(
                f"You are {me.presence.value}: P sets you available to take work.", severity="warning"
            )
        else:
            self.notify("Nothing waiting that you can take now (skills, languages, capacity). ✔")

    @work(group="next")
    async def _take_next(self, candidates: list[Conversation], resume_keys: Callable[[], None]) -> None:
        try:
            await self._take_first(candidates)
        finally:
            resume_keys()

    async def _take_first(self, candidates: list[Conversation]) -> None:
        for conversation in candidates[:20]:
            command = (
                Accept(conversation_id=conversation.id)
                if conversation.channel.is_live
                else Claim(conversation_id=conversation.id)
            )
            try:
                await self.main.hub.perform(command)
            except Conflict:
                continue  # someone else was faster: the next one
            except BackendError as error:
                self.notify(f"Cannot take {conversation.id}: {error}", severity="error")
                return
            self.show_taken(conversation.id)
            return
        self.notify("Others took everything first. Try n again.")

    # ------------------------------------------------------------------------------------------ calls

    def _call(self) -> Conversation | None:
        conversation = self._target()
        if conversation is not None and conversation.channel is not Channel.PHONE:
            self.notify("That works on a call.", severity="warning")
            return None
        return conversation

    def action_hold(self) -> None:
        call = self._call()
        if call is None:
            return
        if call.state is State.ON_HOLD:
            self._send(Resume(conversation_id=call.id), done="Resumed")
        elif self._guard(call, CommandKind.HOLD):
            self._send(Hold(conversation_id=call.id), done="On hold")

    def action_mute(self) -> None:
        call = self._call()
        if call and self._guard(call, CommandKind.MUTE):
            self._send(
                Mute(conversation_id=call.id, muted=not call.muted), done="Unmuted" if call.muted else "Muted"
            )

    def action_hang_up(self) -> None:
        call = self._call()
        if call and self._guard(call, CommandKind.HANG_UP):
            self._send(HangUp(conversation_id=call.id), done="Call ended: wrap up with x")

    def action_dial(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if conversation.channel is not Channel.CALLBACK:
            self.notify("Dial works on a callback request.", severity="warning")
            return
        if self._guard(conversation, CommandKind.PLACE_CALLBACK):
            self._send(
                PlaceCallback(conversation_id=conversation.id),
                done=f"Dialling {conversation.callback_number}",
            )

    def action_schedule(self) -> None:
        conversation = self._target()
        if conversation is None or conversation.channel is not Channel.CALLBACK:
            self.notify("Scheduling is for callback requests.", severity="warning")
            return
        self.app.push_screen(
            TextDialog("Call back at (HH:MM today, or in +30m / +2h)", placeholder="14:30"),
            lambda text: text and self._schedule_at(conversation.id, text),
        )

    def _schedule_at(self, cid: str, text: str) -> None:
        at = parse_when(text, self.main.clock())
        if at is None:
            self.notify(f"Not a time: {text!r} (14:30, +30m, +2h)", severity="warning")
            return
        self._send(
            ScheduleCallback(conversation_id=cid, at=at),
            done="Callback scheduled for " + datetime.fromtimestamp(at).strftime("%a %H:%M"),
        )

    def action_chat_session(self, number: int) -> None:
        """alt+N: my Nth open chat (oldest first), wherever the list is."""
        store = self.main.store
        mine = sorted(
            (
                c
                for c in store.conversations.values()
                if c.channel is Channel.CHAT and c.assignee == self.main.me and not c.is_closed
            ),
            key=lambda c: c.created_at,
        )
        if not 1 <= number <= len(mine):
            self.notify(f"You have {len(mine)} chat session(s).")
            return
        chat = mine[number - 1]
        if not self.queue.select_id(chat.id):  # highlighted, so that the next key acts on it
            self.action_view("all")
            self.queue.select_id(chat.id)
        self.open_conversation(chat.id)
        self.add_class("-detail-open")

    def action_save_attachments(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        attachments = [a for m in self.query_one(Transcript).messages for a in m.attachments]
        if not attachments or conversation.id != self.open_id:
            self.notify("No attachment in the open conversation.", severity="warning")
            return
        default = str(Path("~/Downloads").expanduser())
        self.app.push_screen(
            TextDialog(f"Save {len(attachments)} attachment(s) to folder", value=default),
            lambda folder: folder and self._save_attachments(conversation.id, attachments, Path(folder)),
        )

    @work(group="attachments")
    async def _save_attachments(self, cid: str, attachments: list[Attachment], folder: Path) -> None:
        saved = []
        for attachment in attachments:
            try:
                content = await self.main.hub.attachment(cid, attachment)
                path = await asyncio.to_thread(save_attachment, folder, attachment.filename, content)
            except (BackendError, OSError, ValueError) as error:
                self.notify(f"{sanitize(attachment.filename, single_line=True)}: {error}", severity="error")
                continue
            saved.append(path.name)
        if saved:
            self.notify(f"Saved in {folder}: " + ", ".join(saved), timeout=6)

    def action_merge(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.MERGE):
            return
        others = [
            (c.id, f"{c.channel.value} · {c.state.value} · {sanitize(c.subject, single_line=True)[:50]}")
            for c in self.main.store.of_customer(conversation.customer_id)
            if c.id != conversation.id and c.backend == conversation.backend
        ]
        if not others:
            self.notify("This customer has no other conversation here.")
            return
        self.app.push_screen(
            PickDialog("Merge into this conversation", others),
            lambda other: other and self._confirm_merge(conversation, other),
        )

    def _confirm_merge(self, conversation: Conversation, other_id: str) -> None:
        """A merge moves every message and closes the other one: asked first, naming both, and held in the
        undo window like a close (ctrl+z withdraws it before it is done)."""
        other = self.main.store.conversations.get(other_id)
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
                self._send(
                    Merge(conversation_id=conversation.id, other_id=other_id),
                    undo=True,
                    done=f"Merged {named(other)} into {named(conversation)}",
                )

        self.app.push_screen(ConfirmDialog(question), answer)

    # ------------------------------------------------------------------------------------------ closing

    def action_close(self) -> None:
        if self.queue.mark_count:
            self._bulk_close()
            return
        conversation = self._target()
        if conversation is None:
            return
        cid = conversation.id
        plan = plan_for(conversation)
        if plan.refusal:
            self.notify(plan.refusal, severity="information" if conversation.is_closed else "warning")
            return
        if plan.undoable:
            if self._guard(conversation, CommandKind.SET_STATUS):
                for command in plan.commands:
                    self._send(command, undo=True, done="Solved: survey sent")
            return
        for command in plan.commands:
            self._send(command)
        if plan.ask is Ask.DISPOSITION:
            self._ask_disposition(cid)
        elif plan.ask is Ask.CALLBACK_OUTCOME:
            self.app.push_screen(
                PickDialog(
                    "Callback outcome", [("yes", "Reached the customer"), ("no", "No answer: retry later")]
                ),
                lambda value: (
                    value
                    and self._send(
                        CallbackOutcome(conversation_id=cid, reached=value == "yes"), done="Outcome saved"
                    )
                ),
            )

    def _ask_disposition(self, cid: str) -> None:
        dispositions = self.main.config.dispositions or [(d.code, d.label) for d in DEFAULT_DISPOSITIONS]

        def chosen(code: str | None) -> None:
            if not code:
                self.notify("Still in wrap-up: press x to choose a disposition.")
                return

            def with_note(note: str | None) -> None:
                self._send(
                    WrapUp(conversation_id=cid, disposition=code, note=note or ""),
                    undo=True,
                    done=f"Wrapped up: {code}",
                )
                self.action_back()

            self.app.push_screen(TextDialog("Wrap-up note (optional, enter to finish)"), with_note)

        self.app.push_screen(PickDialog("Wrap-up: disposition", dispositions), chosen)

    # ------------------------------------------------------------------------------------------ attributes

    def action_transfer(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.TRANSFER):
            return
        app = self.main
        rules = app.config.routing
        conversations = list(app.store.conversations.values())
        able: list[tuple[str, str]] = []
        unable: list[str] = []
        for agent in sorted(app.store.agents.values(), key=lambda a: a.name.lower()):
            if agent.id == app.me:
                continue
            why = transfer_refusal(agent, conversation, Load.of(conversations, agent.id), rules)
            name = sanitize(agent.name, single_line=True)
            if why is None:
                able.append((f"agent:{agent.id}", f"Agent {name}"))
            else:
                # "offline" says more than "agent not available"
                reason = agent.presence.value if why is Refusal.NOT_AVAILABLE else why.value
                unable.append(f"{name} ({reason})")
        # A queue holds any contact until someone who can take it is free.
        queues = sorted({c.queue for c in conversations} | {"general"})
        options = able + [(f"queue:{q}", f"Queue {sanitize(q, single_line=True)}") for q in queues]
        note = "Cannot take it now: " + ", ".join(unable) if unable else ""
        if not able:
            note += " · nobody can take it now: a queue keeps it waiting"
        labels = dict(options)
        self.app.push_screen(
            PickDialog("Transfer to", options, note=note),
            lambda v: v and self._confirm_transfer(conversation, v, labels[v]),
        )

    def _confirm_transfer(self, conversation: Conversation, target: str, label: str) -> None:
        who = sanitize(conversation.customer_name, single_line=True)
        what = f"{who}'s {conversation.channel.value}"

        def answer(yes: bool | None) -> None:
            if yes:
                self._transfer_to(target)

        self.app.push_screen(ConfirmDialog(f"Transfer {what} to {label}?"), answer)

    def _transfer_to(self, target: str) -> None:
        for conversation in self._targets():
            why = self._transfer_refused(conversation, target)
            if why:
                self.notify(why, severity="warning", timeout=6)
                continue
            self._transfer_one(conversation, target)

    def _transfer_refused(self, conversation: Conversation, target: str) -> str:
        """Why the agent named (`:transfer bob`, or one who went offline since the picker) cannot take it."""
        kind, _, name = target.partition(":")
        agent = self.main.store.agents.get(name or kind) if kind != "queue" else None
        if agent is None:
            return ""  # a queue, or a name the backend will refuse itself
        load = Load.of(self.main.store.conversations.values(), agent.id)
        why = transfer_refusal(agent, conversation, load, self.main.config.routing)
        if why is None:
            return ""
        reason = agent.presence.value if why is Refusal.NOT_AVAILABLE else why.value
        return f"Not transferred: {sanitize(agent.name, single_line=True)} cannot take it now ({reason})."

    def _transfer_one(self, conversation: Conversation, target: str) -> None:
        kind, _, name = target.partition(":")
        if not name:
            kind, name = "agent", kind
        warm = (
            conversation.channel is Channel.PHONE
            and conversation.state is State.CONNECTED
            and kind == "agent"
        )
        command = Transfer(
            conversation_id=conversation.id,
            to_agent=name if kind == "agent" else None,
            to_queue=name if kind == "queue" else None,
            warm=warm,
        )
        self._send(command, done=f"Transferred to {name}")

    def action_tag(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.TAGS):
            return
        self.app.push_screen(
            TextDialog("Tags: words to add, -word to remove", value=""),
            lambda text: text and self._tags_from_words(text.split()),
        )

    def _tags_from_words(self, words: list[str]) -> None:
        words = [w for w in words if w not in ("add",)]
        add = tuple(w for w in words if not w.startswith("-"))
        remove = tuple(w[1:] for w in words if w.startswith("-"))
        for conversation in self._targets():
            self._send(Tags(conversation_id=conversation.id, add=add, remove=remove), done="Tags saved")

    def action_priority(self) -> None:
        """A picker, most urgent first: a cycle went through urgent → low silently."""
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.SET_PRIORITY):
            return
        options = [
            (p.name.lower(), p.name.lower() + ("  (now)" if p is conversation.priority else ""))
            for p in sorted(Priority, reverse=True)
        ]
        self.app.push_screen(
            PickDialog("Priority", options), lambda name: name and self._set_priority(name, conversation)
        )

    def _set_priority(self, name: str, conversation: Conversation | None = None) -> None:
        conversation = conversation or self._target()
        if conversation is None:
            return
        try:
            priority = Priority[name.upper()]
        except KeyError:
            self.notify("priority: low, normal, high or urgent", severity="warning")
            return
        before = conversation.priority.name.lower()
        if priority is conversation.priority:
            self.notify(f"Priority stays {before}.")
            return
        who = sanitize(conversation.customer_name, single_line=True)
        self._send(
            SetPriority(conversation_id=conversation.id, priority=priority),
            done=f"Priority of {who}'s {conversation.channel.value}: {before} → {priority.name.lower()}",
        )

    def _set_state(self, name: str) -> None:
        conversation = self._target()
        if conversation is None:
            return
        try:
            state = State(name.lower())
        except ValueError:
            self.notify(f"unknown status {name!r}", severity="warning")
            return
        self._send(SetStatus(conversation_id=conversation.id, state=state), done=f"Status {state.value}")

    def action_snooze(self) -> None:
        if self._target() is not None:
            self.app.push_screen(PickDialog("Snooze until", SNOOZE_CHOICES), lambda v: v and self._snooze(v))

    def _snooze(self, span: str) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.SNOOZE):
            return
        try:
            until = self.main.clock() + parse_duration(span)
        except ValueError:
            self.notify("snooze: 15m, 1h, 1d ...", severity="warning")
            return
        self._send(Snooze(conversation_id=conversation.id, until=until), done=f"Snoozed {span}")

    def action_presence(self) -> None:
        choices = presence_choices(self.main.config.presence)
        options = [(f"{c.presence.value}:{c.reason}", f"{c.key}  {c.label}") for c in choices]
        letters = {c.key: value for c, (value, _) in zip(choices, options, strict=True) if c.key}
        self.app.push_screen(
            PickDialog("Your presence", options, letters=letters), lambda v: v and self._presence(v)
        )

    def _presence_from_words(self, words: list[str]) -> None:
        self._presence(":".join(words[:2]) if words else "available")

    def _presence(self, value: str) -> None:
        name, _, reason = value.partition(":")
        try:
            presence = Presence(name)
        except ValueError:
            self.notify("presence: available, busy, away REASON, offline", severity="warning")
            return
        app = self.main
        warning = validate_change(
            Load.of(app.store.conversations.values(), app.me), presence, app.config.routing
        )
        if warning:
            self.notify(warning, severity="warning", timeout=6)
        self._send(SetPresence(presence=presence, reason=reason), done=f"You are {name} {reason}".strip())
