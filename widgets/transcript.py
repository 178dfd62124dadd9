"""A conversation's messages as a Line-API view: chat bubbles, call events, email thread with headers.

Messages are laid out into lines once per (messages, width) and only the visible lines are drawn, so a
thread of thousands of messages scrolls as fast as a short one. Quoted email text (`> ...` and the
"On ... wrote:" tail) is folded into one line until the agent unfolds it; huge bodies are cut for display.
Everything the customer wrote goes through `sanitize` and is drawn as plain text, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..console.core.attach_files import human_size
from ..console.core.model import Channel, Direction, Message
from ..console.core.sanitize import sanitize
from .cell_wrap import wrap_prefixed, wrap_quoted

# The display of one message stops here: a 20 MB body must not freeze the console.
MAX_DISPLAY_CHARS = 20_000
# Marks of undecodable parts shown per message (a hostile mail may have hundreds of broken parts).
MAX_MARKS = 5
_QUOTE_HEADER = re.compile(
    r"^(On .+ wrote:|Le .+ a écrit ?:|Am .+ schrieb .+:|-----Original Message-----)\s*$"
)


def split_quoted(body: str) -> tuple[list[str], list[str]]:
    """The new text of an email and its quoted tail (quote lines and the attribution line before them)."""
    lines = body.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or _QUOTE_HEADER.match(stripped):
            rest = lines[index:]
            if all(
                not x.strip() or x.lstrip().startswith(">") or _QUOTE_HEADER.match(x.strip()) for x in rest
            ):
                return lines[:index], rest
    return lines, []


class Transcript(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "transcript--inbound",
        "transcript--outbound",
        "transcript--note",
        "transcript--system",
        "transcript--meta",
        "transcript--quote",
        "transcript--warning",
    }
    DEFAULT_CSS = """
    Transcript { height: 1fr; background: $surface; padding: 0 1; }
    Transcript > .transcript--inbound { color: $foreground; }
    Transcript > .transcript--outbound { color: $primary; }
    Transcript > .transcript--note { color: $warning; background: $warning 15%; }
    Transcript > .transcript--system { color: $foreground 55%; text-style: italic; }
    Transcript > .transcript--meta { color: $secondary; text-style: bold; }
    Transcript > .transcript--quote { color: $foreground 45%; }
    Transcript > .transcript--warning { color: $error; text-style: bold; }
    """
    # Its size is the pane's, whatever the length of the thread: Textual's declaration laid the whole screen
    # out again for each conversation opened. A scrollbar that comes or goes still asks for a layout.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    unfolded: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.messages: list[Message] = []
        self.channel: Channel = Channel.CHAT
        self._lines: list[tuple[str, str]] = []  # (text, component name)
        self._width = 0

    def show(self, messages: list[Message], channel: Channel, *, follow: bool = True) -> None:
        self.messages = list(messages)
        self.channel = channel
        self._layout()
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def add(self, message: Message) -> None:
        at_end = self.scroll_offset.y >= self.max_scroll_y - 1
        # A merge brings older messages in: each goes to its place in time (a new one, at the end).
        index = len(self.messages)
        while index and self.messages[index - 1].created_at > message.created_at:
            index -= 1
        self.messages.insert(index, message)
        self._layout()
        if at_end:
            self.scroll_end(animate=False, immediate=True)

    def watch_unfolded(self) -> None:
        self._layout()

    def on_resize(self) -> None:
        self._layout()

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar that comes with a long thread takes columns the lines were wrapped for (no resize
        # event says so): wrapped again, they are not cut at the right edge.
        self._layout()

    def _layout(self) -> None:
        width = max(20, self.scrollable_content_region.width or 80)
        self._width = width
        lines: list[tuple[str, str]] = []
        for message in self.messages:
            lines.extend(self._message_lines(message, width))
            lines.append(("", "inbound"))
        self._lines = lines
        size = Size(width, len(lines))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)  # scrollbars and the scroll's bounds, as the layout pass did
        self.refresh()

    def _message_lines(self, message: Message, width: int) -> list[tuple[str, str]]:
        when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
        author = sanitize(message.author or "", single_line=True)
        kind = {
            Direction.INBOUND: "inbound",
            Direction.OUTBOUND: "outbound",
            Direction.NOTE: "note",
            Direction.SYSTEM: "system",
        }[message.direction]
        body = message.body
        cut = len(body) > MAX_DISPLAY_CHARS
        body = sanitize(body[:MAX_DISPLAY_CHARS])
        if message.direction is Direction.SYSTEM:
            # A timeline line wraps under its own text, the time standing out on the left.
            first = f"{when}  · "
            return [
                (line, "system")
                for index, paragraph in enumerate(body.splitlines() or [""])
                for line in wrap_prefixed(paragraph, width, first if index == 0 else " " * len(first))
            ]
        label = {
            "inbound": author or "customer",
            "outbound": f"{author or 'agent'} → customer",
            "note": f"INTERNAL NOTE by {author or 'agent'} (the customer does not see it)",
        }[kind]
        out: list[tuple[str, str]] = [(line, "meta") for line in wrap_prefixed(label, width, f"{when}  ")]
        if message.email is not None:
            headers = message.email
            for name, value in (
                ("From", headers.from_addr),
                ("To", ", ".join(headers.to)),
                ("Cc", ", ".join(headers.cc)),
                ("Subject", headers.subject),
            ):
                if value:
                    text = sanitize(value, single_line=True)
                    out.extend((line, "system") for line in wrap_prefixed(text, width, f"{name}: "))
        new, quoted = split_quoted(body)
        for paragraph in new:
            out.extend((line, kind) for line in wrap_prefixed(paragraph, width, "  "))
        if quoted:
            if self.unfolded:
                out.extend((line, "quote") for q in quoted for line in wrap_quoted(q, width, "  "))
            else:
                fold = f"[… {len(quoted)} quoted lines folded — press o to unfold]"
                out.extend((line, "quote") for line in wrap_prefixed(fold, width, "  "))
        if cut:
            cut_note = f"[message cut for display at {MAX_DISPLAY_CHARS:,} characters]"
            out.extend((line, "system") for line in wrap_prefixed(cut_note, width, "  "))
        # A mail that could not be decoded as sent says so: what is shown above is a guess, and the
        # part as sent is among the attachments below (S saves them).
        for problem in message.undecodable[:MAX_MARKS]:
            text = "⚠ could not decode: " + sanitize(problem[:1000], single_line=True)
            out.extend((line, "warning") for line in wrap_prefixed(text, width, "  "))
        if len(message.undecodable) > MAX_MARKS:
            more = len(message.undecodable) - MAX_MARKS
            out.append((f"  ⚠ could not decode {more:,} more parts", "warning"))
        for attachment in message.attachments:
            size = human_size(attachment.size) if attachment.size else "?"  # 363 B, not "0 KB"
            name = sanitize(attachment.filename, single_line=True)
            kind = sanitize(attachment.content_type, single_line=True)[:100]
            out.extend((line, "meta") for line in wrap_prefixed(f"{name}  ({kind}, {size})", width, "  📎 "))
        return out

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles: dict[str, Style] = {}

    def _base_style(self) -> Style:
        return self._cached_style("", lambda: self.rich_style)

    def _cached_style(self, name: str, make: Callable[[], Style]) -> Style:
        styles = self.__dict__.setdefault("_styles", {})
        style = styles.get(name)
        if style is None:
            style = styles[name] = make()
        return style

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self._base_style())
        text, kind = self._lines[index]
        style = self._cached_style(
            kind, lambda: self.get_component_rich_style(f"transcript--{kind}", partial=True)
        )
        return Strip([Segment(text, style)]).adjust_cell_length(width).apply_style(self._base_style())
