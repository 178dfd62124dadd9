"""The composer: reply, note or forward, with CC/BCC and a subject for email. Drafts are saved as you type.

In a chat, enter sends and alt+enter (or ctrl+j) starts a new line, as in chat apps; in an email, enter is
a new line and ctrl+s sends, as in mail clients. ctrl+e opens the text in $EDITOR. esc leaves the composer
and keeps the draft. ctrl+t attaches a file to an email (a path prompt, widgets/attach_prompt.py); the
files are listed with their sizes. In an email, tab and shift+tab move between To, Cc, Bcc, subject and body (the
composer's binding comes before the screen's tab, "next activity", which would leave the reply).

Send and leave are carried out by a call, within the key that asks for them, not by messages that arrive
later: the letters typed right after enter (the next chat line) or esc (`/` to filter) must find the text
already sent and the composer already closed, not be appended to the reply being sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, TextArea

from ..console.core.attach_files import human_size
from ..console.core.model import Attachment
from ..console.core.sanitize import sanitize
from .key_hints import keys_in_force


@dataclass(frozen=True, slots=True)
class Outgoing:
    kind: str  # reply | reply_all | forward | note
    body: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""  # empty: the backend's default ("Re: " + the conversation's subject)
    attachments: tuple[Attachment, ...] = ()  # files on this machine (`ref` is the path), read at send


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


# Never a send: alt+enter (ESC CR from xterm and tmux, read by console/ui/terminal_keys.py), ctrl+j (LF, every
# terminal), shift+enter (terminals that report it: the kitty keyboard protocol).
NEW_LINE_KEYS = frozenset({"alt+enter", "ctrl+j", "shift+enter"})


class ComposerText(TextArea):
    """A TextArea where enter can mean send (chat) and alt+enter a new line."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer.send"),
        Binding("ctrl+e", "external_editor", "$EDITOR", id="composer.editor"),
        Binding("escape", "leave", "Leave (keep draft)", id="composer.leave"),
    ]

    enter_sends = False

    class ExternalEditor(Message):
        pass

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and self.enter_sends:
            event.prevent_default()
            event.stop()
            self.query_ancestor(Composer).send()
            return
        if event.key in NEW_LINE_KEYS:
            event.prevent_default()
            event.stop()
            self.insert("\n")
            return
        await super()._on_key(event)

    def action_send(self) -> None:
        self.query_ancestor(Composer).send()

    def action_leave(self) -> None:
        self.query_ancestor(Composer).leave()

    def action_external_editor(self) -> None:
        self.post_message(self.ExternalEditor())


# The email fields in tab order; the body comes last.
FIELD_IDS = ("composer-to", "composer-cc", "composer-bcc", "composer-subject")


class Composer(Vertical):
    BINDINGS = [
        Binding("tab", "field(1)", "Next field", show=False, id="composer.next_field"),
        Binding("shift+tab", "field(-1)", "Previous field", show=False, id="composer.previous_field"),
        # Not ctrl+a: the text area's start of line.
        Binding("ctrl+t", "attach", "Attach a file", show=False, id="composer.attach"),
    ]
    DEFAULT_CSS = """
    Composer { height: auto; max-height: 18; border: round $primary; padding: 0 1; display: none; }
    Composer.-open { display: block; }
    Composer.-note { border: round $warning; background: $warning 10%; }
    /* :focus too: Input's own `Input:focus` outranks `Composer Input`, and its tall border left the
       focused field no row for its text. */
    Composer Input, Composer Input:focus { height: 1; border: none; padding: 0; margin: 0; }
    Composer Input:focus { background: $boost; }
    Composer .-email-only { display: none; }
    Composer #composer-attachments { height: auto; color: $text-muted; }
    Composer.-email .-email-only { display: block; }
    Composer ComposerText, Composer ComposerText:focus { height: 8; border: none; padding: 0; }
    /* The hint wraps: cut at the width it ended `enter send · alt+` in a narrow chat column. */
    Composer #composer-title { text-style: bold; width: 1fr; height: auto; }
    """

    class _ComposerMessage(Message):
        def __init__(self, composer: Composer) -> None:
            super().__init__()
            self.composer = composer

        @property
        def control(self) -> Composer:
            return self.composer

    class Submitted(_ComposerMessage):
        def __init__(self, composer: Composer, outgoing: Outgoing) -> None:
            super().__init__(composer)
            self.outgoing = outgoing

    class Edited(_ComposerMessage):
        """The text changed: the screen saves the draft (debounced)."""

        def __init__(self, composer: Composer, outgoing: Outgoing) -> None:
            super().__init__(composer)
            self.outgoing = outgoing

    class Opened(_ComposerMessage):
        """It shows: the screen gives it room (the composer never sets the screen's classes itself)."""

    class Closed(_ComposerMessage):
        """It is hidden. `left`: the agent left it (esc), so the list takes the keys again; otherwise the
        screen hid it (another conversation opened, a reply sent) and says where the focus goes."""

        def __init__(self, composer: Composer, *, left: bool) -> None:
            super().__init__(composer)
            self.left = left

    kind = "reply"
    _title = ""
    _attachments: tuple[Attachment, ...] = ()
    _last_outgoing: Outgoing | None = None
    _opened: Outgoing | None = None  # what it opened with: its prefilled fields are not the agent's words

    def __init__(
        self,
        *,
        on_submit: Callable[[Submitted], None] | None = None,
        on_opened: Callable[[Opened], None] | None = None,
        on_closed: Callable[[Closed], None] | None = None,
        id: str | None = None,
    ) -> None:
        """`on_submit` / `on_opened` / `on_closed` answer at once (the screen's handlers: the layout and the
        focus change before the next key typed ahead is read); without them, messages are posted."""
        super().__init__(id=id)
        self._on_submit = on_submit
        self._on_opened = on_opened
        self._on_closed = on_closed

    def _tell(self, message: Message, handler: Callable[[Any], None] | None) -> None:
        if handler is not None:
            handler(message)
        else:
            self.post_message(message)

    def compose(self) -> ComposeResult:
        yield Label("", id="composer-title")
        yield Input(placeholder="To (comma-separated)", id="composer-to", classes="-email-only")
        yield Input(placeholder="Cc", id="composer-cc", classes="-email-only")
        yield Input(placeholder="Bcc", id="composer-bcc", classes="-email-only")
        yield Input(placeholder="Subject", id="composer-subject", classes="-email-only")
        yield Label("", id="composer-attachments", classes="-email-only")
        yield ComposerText(id="composer-text", soft_wrap=True, show_line_numbers=False)

    @property
    def text_area(self) -> ComposerText:
        return self.query_one(ComposerText)

    def open(
        self,
        kind: str,
        *,
        email: bool,
        body: str = "",
        to: tuple[str, ...] = (),
        cc: tuple[str, ...] = (),
        bcc: tuple[str, ...] = (),
        subject: str = "",
        default_subject: str = "",
        attachments: tuple[Attachment, ...] = (),
    ) -> None:
        """`default_subject`: what the backend sends when the subject is left empty (shown as its hint)."""
        self.kind = kind
        titles = {
            "reply": "Reply to the customer",
            "reply_all": "Reply to all",
            "forward": "Forward",
            "note": "Internal note — only agents see it",
        }
        send_key = "ctrl+s" if email or kind == "note" else "enter"
        self._title = titles[kind]
        self.set_class(kind == "note", "-note")
        self.set_class(email and kind != "note", "-email")
        self.query_one("#composer-to", Input).value = ", ".join(to)
        self.query_one("#composer-cc", Input).value = ", ".join(cc)
        self.query_one("#composer-bcc", Input).value = ", ".join(bcc)
        subject_field = self.query_one("#composer-subject", Input)
        subject_field.value = subject
        subject_field.placeholder = f"Subject: {default_subject}" if default_subject else "Subject"
        self._attachments = tuple(attachments)
        self._show_attachments()
        area = self.text_area
        area.enter_sends = send_key == "enter"
        self._last_outgoing = Outgoing(
            kind=kind,
            body=body,
            to=tuple(to),
            cc=tuple(cc),
            bcc=tuple(bcc),
            subject=subject,
            attachments=self._attachments,
        )
        self._opened = self._last_outgoing
        area.load_text(body)
        area.move_cursor(area.document.end)
        self.add_class("-open")
        self._tell(self.Opened(self), self._on_opened)
        # Focus now, not after the queued messages: a fast typist's first letters after `r` are text,
        # not commands for the list (`focus()` would land after the keys already in the queue).
        self.screen.set_focus(area)
        self._draw_title()

    def _draw_title(self) -> None:
        """The title and the keys that work here, as bound now (a `[keys]` remap shows): enter sends a chat
        and is a new line in an email; ctrl+s (or its remap) sends both."""
        bound = keys_in_force(self.text_area, ["send", "external_editor", "leave"])
        hints = []
        if self.text_area.enter_sends:
            hints += ["enter send", "alt+enter new line"]
        else:
            hints += [f"{bound['send']} send"] if "send" in bound else []
            hints.append("enter new line")
        hints += [f"{bound['external_editor']} $EDITOR"] if "external_editor" in bound else []
        hints += [f"{bound['leave']} leave (draft kept)"] if "leave" in bound else []
        self.query_one("#composer-title", Label).update(Text(f"{self._title}  ·  " + " · ".join(hints)))

    def close(self) -> None:
        """Hidden and emptied: what it held was sent or kept as a draft."""
        self.hide()
        self.text_area.load_text("")

    def hide(self) -> None:
        """Hidden, its text kept (the draft keeper has it)."""
        if self.has_class("-open"):
            self.remove_class("-open")
            self._tell(self.Closed(self, left=False), self._on_closed)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def outgoing(self) -> Outgoing:
        return Outgoing(
            kind=self.kind,
            body=self.text_area.text,
            to=_addresses(self.query_one("#composer-to", Input).value),
            cc=_addresses(self.query_one("#composer-cc", Input).value),
            bcc=_addresses(self.query_one("#composer-bcc", Input).value),
            subject=self.query_one("#composer-subject", Input).value.strip(),
            attachments=self._attachments,
        )

    def action_attach(self) -> None:
        from .attach_prompt import AttachPrompt

        self.app.push_screen(AttachPrompt(), self._attached)

    def _attached(self, attachment: Attachment | None) -> None:
        if attachment is None:
            return
        if any(a.ref == attachment.ref for a in self._attachments):
            # The same path again takes it off: the only way to change one's mind, and cheap to explain.
            self._attachments = tuple(a for a in self._attachments if a.ref != attachment.ref)
            self.app.notify(f"Removed {sanitize(attachment.filename, single_line=True)}", timeout=3)
        else:
            self._attachments = (*self._attachments, attachment)
        self._show_attachments()
        self._edited()

    def _show_attachments(self) -> None:
        label = self.query_one("#composer-attachments", Label)
        files = [
            f"{sanitize(a.filename, single_line=True)} ({human_size(a.size)})" for a in self._attachments
        ]
        label.update(Text("Attached: " + " · ".join(files) if files else "ctrl+t attach a file"))

    def untouched(self, outgoing: Outgoing) -> bool:
        """No text, and the fields as they opened: nothing the agent wrote would be lost without a draft."""
        opened = self._opened
        return (
            opened is not None
            and not outgoing.body.strip()
            and not outgoing.attachments
            and (outgoing.kind, outgoing.to, outgoing.cc, outgoing.bcc, outgoing.subject)
            == (opened.kind, opened.to, opened.cc, opened.bcc, opened.subject)
        )

    def readdress(self, to: tuple[str, ...], cc: tuple[str, ...]) -> None:
        """The recipients it opened with, replaced (known late), unless the agent changed them already."""
        opened = self._opened
        current = self.outgoing()
        if opened is None or (current.to, current.cc) != (opened.to, opened.cc):
            return
        self._opened = replace(opened, to=to, cc=cc)
        self.query_one("#composer-to", Input).value = ", ".join(to)
        self.query_one("#composer-cc", Input).value = ", ".join(cc)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A chat or a note has one field: tab is left to the screen.
        return action not in ("field", "attach") or self.has_class("-email")

    def action_field(self, step: int) -> None:
        fields: list[Widget] = [self.query_one(f"#{i}", Input) for i in FIELD_IDS]
        fields.append(self.text_area)
        focused = self.screen.focused
        index = fields.index(focused) if focused in fields else len(fields) - 1
        self.screen.set_focus(fields[(index + step) % len(fields)])

    def send(self) -> None:
        outgoing = self.outgoing()
        if not outgoing.body.strip() and not outgoing.attachments:
            return
        self._tell(self.Submitted(self, outgoing), self._on_submit)

    def leave(self) -> None:
        self.remove_class("-open")
        self._tell(self.Closed(self, left=True), self._on_closed)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._edited()

    def _edited(self) -> None:
        # Only real changes: the draft timer must not be restarted forever by repeats of the same text.
        if not self.is_open:
            return
        outgoing = self.outgoing()
        if outgoing != self._last_outgoing:
            self._last_outgoing = outgoing
            self.post_message(self.Edited(self, outgoing))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._edited()
