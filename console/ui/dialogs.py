"""Small modal dialogs: pick one of a list, type a line, confirm. Keyboard first: type to jump, enter, esc.

Titles, notes and options are built from outside text (subjects, agent and queue names): drawn as `Text`.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ...widgets.dialog_css import DIALOG_CSS
from ...widgets.safe_text import safe_text


class _PickList(OptionList):
    """Enter picks at once (not by a message the dialog reads later): the key typed next is for the screen
    below, not for this list."""

    def action_select(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None and not self.get_option_at_index(highlighted).disabled:
            self.screen.dismiss(self.get_option_at_index(highlighted).id)


class PickDialog(ModalScreen[str | None]):
    """Choose one value; digits 1-9 pick directly, and so do the `letters` shown beside the options.

    A key that picks is stopped here: once the dialog is gone it would reach the screen below, where the
    same digit switches the view."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PickDialog")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        options: list[tuple[str, str]],
        *,
        note: str = "",
        letters: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.note = note
        self.letters = letters or {}  # key -> value, for options whose label shows a letter to press

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe_text(self.title_text), classes="-title")
            if self.note:
                yield Label(safe_text(self.note))
            yield _PickList(
                *(
                    Option(safe_text(f"{i + 1 if i < 9 else ' '}  {label}", single_line=True), id=value)
                    for i, (value, label) in enumerate(self.options)
                )
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one(OptionList))  # now: the key typed next is for the list

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if key.isdigit() and 1 <= int(key) <= min(9, len(self.options)):
            event.stop()
            self.dismiss(self.options[int(key) - 1][0])
        elif key in self.letters:
            event.stop()
            self.dismiss(self.letters[key])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class _AnswerInput(Input):
    """Enter answers at once, like `_PickList`: what is typed after it is for the screen below."""

    async def action_submit(self) -> None:
        self.screen.dismiss(self.value)


class TextDialog(ModalScreen[str | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="TextDialog")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, *, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe_text(self.title_text), classes="-title")
            yield _AnswerInput(value=self.value, placeholder=self.placeholder)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))  # now: the letters typed next are the answer

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe_text(self.question), classes="-title")
            yield Label("y yes · n no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
