"""ctrl+t in the composer: a path to attach, with tab completing it from the file system.

Enter attaches the file, or says why not (a folder, unreadable, too large) and stays open for another
path; esc cancels. File names from the disk are outside text: shown as `Text`, sanitised.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..console.core.attach_files import NotAttachable, attachable, complete
from ..console.core.model import Attachment
from .dialog_css import DIALOG_CSS
from .safe_text import safe_text


class _PathInput(Input):
    """Enter answers at once (what is typed after it is for the composer), tab completes."""

    BINDINGS = [Binding("tab", "complete_path", "Complete", show=False, id="attach.complete")]

    async def action_submit(self) -> None:
        prompt = self.screen
        assert isinstance(prompt, AttachPrompt)
        prompt.attach(self.value)

    def action_complete_path(self) -> None:
        prompt = self.screen
        assert isinstance(prompt, AttachPrompt)
        prompt.complete()


class AttachPrompt(ModalScreen[Attachment | None]):
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="AttachPrompt")
        + """
    AttachPrompt #attach-candidates { color: $text-muted; height: auto; }
    AttachPrompt #attach-error { color: $error; height: auto; }
    """
    )
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="attach.cancel")]

    def __init__(self, *, start: str = "", cwd: Path | None = None) -> None:
        super().__init__()
        self._start = start
        self._cwd = cwd

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Attach a file — tab completes, enter attaches, esc cancels"), classes="-title")
            yield _PathInput(value=self._start, placeholder="~/Documents/invoice.pdf", id="attach-path")
            yield Static("", id="attach-candidates")
            yield Static("", id="attach-error")

    def on_mount(self) -> None:
        path_input = self.query_one(_PathInput)
        self.set_focus(path_input)  # now: the letters typed next are the path
        path_input.cursor_position = len(path_input.value)

    def complete(self) -> None:
        path_input = self.query_one(_PathInput)
        completed, candidates = complete(path_input.value, cwd=self._cwd)
        path_input.value = completed
        path_input.cursor_position = len(completed)
        shown = "  ".join(candidates)
        self.query_one("#attach-candidates", Static).update(safe_text(shown))
        self.query_one("#attach-error", Static).update("")

    def attach(self, text: str) -> None:
        try:
            attachment = attachable(text, cwd=self._cwd)
        except NotAttachable as why:
            self.query_one("#attach-error", Static).update(safe_text(str(why)))
            return
        self.dismiss(attachment)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
