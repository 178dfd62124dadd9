"""Changing a conversation's attributes: transfer it, tag it, its priority and status, snooze it; and the
agent's own presence. Transfer and tags act on the marked rows when there are any."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...backends.base import CommandKind, SetPresence, SetPriority, SetStatus, Snooze, Tags, Transfer
from ..core.model import EMAIL_LIKE, Channel, Conversation, Presence, Priority, State
from ..core.presence import choices as presence_choices
from ..core.presence import validate_change
from ..core.routing import Load, Refusal, transfer_refusal
from ..core.sanitize import sanitize
from ..core.sla import parse_duration
from .dialogs import ConfirmDialog, PickDialog, TextDialog

if TYPE_CHECKING:
    from .marked_rows import MarkedRows
    from .workspace_view import WorkspaceView

SNOOZE_CHOICES: list[tuple[str, str]] = [
    ("15m", "15 minutes"),
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
]


class ConversationEdits:
    def __init__(self, view: WorkspaceView, marks: MarkedRows) -> None:
        self.view = view
        self.marks = marks

    # ------------------------------------------------------------------------------------------ transfer

    def transfer(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.TRANSFER):
            return
        app = view.main
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
        view.ask(
            PickDialog("Transfer to", options, note=note),
            lambda v: v and self._confirm_transfer(conversation, v, labels[v]),
        )

    def _confirm_transfer(self, conversation: Conversation, target: str, label: str) -> None:
        who = sanitize(conversation.customer_name, single_line=True)
        what = f"{who}'s {conversation.channel.value}"

        def answer(yes: bool | None) -> None:
            if yes:
                self.transfer_to(target)

        self.view.ask(ConfirmDialog(f"Transfer {what} to {label}?"), answer)

    def transfer_to(self, target: str) -> None:
        """`agent:bob`, `queue:billing` or a bare agent name (`:transfer bob`)."""
        for conversation in self.marks.targets():
            why = self._transfer_refused(conversation, target)
            if why:
                self.view.notify(why, severity="warning", timeout=6)
                continue
            self._transfer_one(conversation, target)

    def _transfer_refused(self, conversation: Conversation, target: str) -> str:
        """Why the agent named (`:transfer bob`, or one who went offline since the picker) cannot take it."""
        app = self.view.main
        kind, _, name = target.partition(":")
        agent = app.store.agents.get(name or kind) if kind != "queue" else None
        if agent is None:
            return ""  # a queue, or a name the backend will refuse itself
        load = Load.of(app.store.conversations.values(), agent.id)
        why = transfer_refusal(agent, conversation, load, app.config.routing)
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
        self.view.send(command, done=f"Transferred to {name}")

    # ------------------------------------------------------------------------------------------ attributes

    def tag(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.TAGS):
            return
        view.ask(
            TextDialog("Tags: words to add, -word to remove", value=""),
            lambda text: text and self.tags_from_words(text.split()),
        )

    def tags_from_words(self, words: list[str]) -> None:
        words = [w for w in words if w not in ("add",)]
        add = tuple(w for w in words if not w.startswith("-"))
        remove = tuple(w[1:] for w in words if w.startswith("-"))
        for conversation in self.marks.targets():
            self.view.send(Tags(conversation_id=conversation.id, add=add, remove=remove), done="Tags saved")

    def priority(self) -> None:
        """A picker, most urgent first: a cycle went through urgent → low silently."""
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.SET_PRIORITY):
            return
        options = [
            (p.name.lower(), p.name.lower() + ("  (now)" if p is conversation.priority else ""))
            for p in sorted(Priority, reverse=True)
        ]
        view.ask(PickDialog("Priority", options), lambda name: name and self.set_priority(name, conversation))

    def set_priority(self, name: str, conversation: Conversation | None = None) -> None:
        view = self.view
        conversation = conversation or view.target()
        if conversation is None:
            return
        try:
            priority = Priority[name.upper()]
        except KeyError:
            view.notify("priority: low, normal, high or urgent", severity="warning")
            return
        before = conversation.priority.name.lower()
        if priority is conversation.priority:
            view.notify(f"Priority stays {before}.")
            return
        who = sanitize(conversation.customer_name, single_line=True)
        view.send(
            SetPriority(conversation_id=conversation.id, priority=priority),
            done=f"Priority of {who}'s {conversation.channel.value}: {before} → {priority.name.lower()}",
        )

    def set_state(self, name: str) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None:
            return
        try:
            state = State(name.lower())
        except ValueError:
            view.notify(f"unknown status {name!r}", severity="warning")
            return
        view.send(SetStatus(conversation_id=conversation.id, state=state), done=f"Status {state.value}")

    def reopen(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None:
            return
        if not conversation.is_closed:
            view.notify("It is open already.", severity="information")
            return
        if conversation.channel not in EMAIL_LIKE:
            view.notify(
                f"A finished {conversation.channel.value} cannot be reopened: write to the customer or call back.",
                severity="warning",
            )
            return
        self.set_state(State.OPEN.value)

    def snooze(self) -> None:
        if self.view.target() is not None:
            self.view.ask(PickDialog("Snooze until", SNOOZE_CHOICES), lambda v: v and self.snooze_for(v))

    def snooze_for(self, span: str) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or not view.guard(conversation, CommandKind.SNOOZE):
            return
        try:
            until = view.main.clock() + parse_duration(span)
        except ValueError:
            view.notify("snooze: 15m, 1h, 1d ...", severity="warning")
            return
        view.send(Snooze(conversation_id=conversation.id, until=until), done=f"Snoozed {span}")

    # ------------------------------------------------------------------------------------------ the agent

    def presence(self) -> None:
        choices = presence_choices(self.view.main.config.presence)
        options = [(f"{c.presence.value}:{c.reason}", f"{c.key}  {c.label}") for c in choices]
        letters = {c.key: value for c, (value, _) in zip(choices, options, strict=True) if c.key}
        self.view.ask(
            PickDialog("Your presence", options, letters=letters), lambda v: v and self.set_presence(v)
        )

    def presence_from_words(self, words: list[str]) -> None:
        self.set_presence(":".join(words[:2]) if words else "available")

    def set_presence(self, value: str) -> None:
        view = self.view
        name, _, reason = value.partition(":")
        try:
            presence = Presence(name)
        except ValueError:
            view.notify("presence: available, busy, away REASON, offline", severity="warning")
            return
        app = view.main
        warning = validate_change(
            Load.of(app.store.conversations.values(), app.me), presence, app.config.routing
        )
        if warning:
            view.notify(warning, severity="warning", timeout=6)
        view.send(SetPresence(presence=presence, reason=reason), done=f"You are {name} {reason}".strip())
