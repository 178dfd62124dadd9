"""The macro picker: type to filter, enter to pick, then fill in what the console could not know.

Pushed by the app with the library and what it knows of the conversation; dismissed with a `FilledMacro`
(or None on escape). The list offers the conversation's language first and English for what is not
translated (ctrl+l shows every language). Picking a macro whose text needs values the context lacks (the
order number of a subject that has none, a tracking number) turns the dialog into a small form, one line per
value; enter moves on, and on the last line returns the filled macro. Escape in the form goes back to the
list.

Everything shown here may come from a customer (their name in the preview) or from a user file (a macro's
name): it is drawn as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..core.macros import FilledMacro, Macro, MacroContext, MacroLibrary, clean_value

PICK_HINT = "↑↓ choose · enter pick · ctrl+l all languages · esc cancel"
FORM_HINT = "enter next / done · ↑↓ move · esc back to the list"


def describe_actions(macro: Macro) -> str:
    """One line of what the macro does besides its text, e.g. "sends at once · +refund · status pending"."""
    parts: list[str] = ["sends at once" if macro.send_now else ("inserts" if macro.text else "no text")]
    parts += [f"+{tag}" for tag in macro.add_tags]
    parts += [f"-{tag}" for tag in macro.remove_tags]
    if macro.priority is not None:
        parts.append(f"priority {macro.priority.name.lower()}")
    if macro.status is not None:
        parts.append(f"status {macro.status.value}")
    if macro.close:
        parts.append("closes" + (f" ({macro.disposition})" if macro.disposition else ""))
    return " · ".join(parts)


class _AtOnceInput(Input):
    """Enter answers within the key, not through a Submitted message handled later: the focus has moved to
    the next field before the next key typed ahead is read (console/ui/key_order.py lets it go only then)."""

    async def action_submit(self) -> None:
        screen = self.screen
        if isinstance(screen, MacroPicker):
            await screen.submitted(self)


class MacroPicker(ModalScreen[FilledMacro | None]):
    DEFAULT_CSS = """
    MacroPicker { align: center middle; }
    MacroPicker > #dialog {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    MacroPicker .-title { text-style: bold; }
    MacroPicker #macros { height: auto; max-height: 12; border: none; margin-top: 1; }
    MacroPicker #preview { height: auto; max-height: 10; margin-top: 1; color: $text-muted; }
    MacroPicker #form { display: none; height: auto; }
    MacroPicker.-form #form { display: block; }
    MacroPicker.-form #pick { display: none; }
    MacroPicker #pick { height: auto; }
    MacroPicker #fields { height: auto; max-height: 20; }
    MacroPicker #form-error { color: $error; height: auto; }
    MacroPicker #hint { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "Cancel", id="macros.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="macros.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="macros.up"),
        Binding("ctrl+l", "toggle_languages", "All languages", id="macros.languages"),
    ]

    def __init__(self, library: MacroLibrary, context: MacroContext, *, query: str = "") -> None:
        super().__init__()
        self.library = library
        self.context = context
        self.initial_query = query
        self.all_languages = False
        self.values = context.values()
        self.shown: list[Macro] = []
        self.chosen: Macro | None = None
        self.asking: tuple[str, ...] = ()

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self._title(), classes="-title", id="title")
            with Vertical(id="pick"):
                yield _AtOnceInput(
                    value=self.initial_query,
                    placeholder="Filter: name, shortcut or words of the text",
                    id="filter",
                )
                yield OptionList(id="macros")
            with Vertical(id="form"):
                yield Static(id="form-title", classes="-title")
                yield VerticalScroll(id="fields")
                yield Static(id="form-error")
            # Below both the list and the form: while filling in, the agent sees where each value goes.
            yield Static(id="preview")
            yield Static(Text(PICK_HINT), id="hint")

    def on_mount(self) -> None:
        # Keys stay in the filter line: the list follows up/down from there, as in a palette.
        self.query_one("#macros", OptionList).can_focus = False
        self._refilter()
        self.set_focus(self.query_one("#filter", Input))

    def _title(self) -> Text:
        language = self.context.language
        title = Text("Macros · ")
        title.append(language)
        if self.all_languages:
            title.append(" · all languages")
        elif language != "en":
            offered = {m.language for m in self.library.candidates(language, self.context.channel)}
            if "en" in offered:  # some macro has no translation in this language: say which it is in
                title.append(" (English where not translated)")
        return title

    # ------------------------------------------------------------------------------------------ the list

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._refilter()

    def _refilter(self) -> None:
        query = self.query_one("#filter", Input).value
        self.shown = self.library.search(
            query, self.context.language, self.context.channel, all_languages=self.all_languages
        )
        options = self.query_one("#macros", OptionList)
        options.set_options(Option(self._row(macro), id=str(i)) for i, macro in enumerate(self.shown))
        if self.shown:
            options.highlighted = 0
        self._show_preview()

    def _row(self, macro: Macro) -> Text:
        # Short enough for one line (OptionList wraps long prompts): the full actions are in the preview.
        row = Text()
        row.append(f"{macro.shortcut:<8.8} ", style="bold")
        row.append(macro.name)
        if macro.language != self.context.language:
            row.append(f"  {macro.language}", style="italic")
        flags = [word for word, on in (("sends", macro.send_now), ("closes", macro.close)) if on]
        if flags:
            row.append("  " + " · ".join(flags), style="dim")
        return row

    def highlighted_macro(self) -> Macro | None:
        index = self.query_one("#macros", OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def _show_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        macro = self.chosen or self.highlighted_macro()
        if macro is None:
            preview.update(Text("No macro matches." if self.library.macros else "No macros are loaded."))
            return
        values = dict(self.values)
        if self.chosen is not None:
            typed = zip(self.asking, self._field_inputs(), strict=False)
            values.update({name: field.value for name, field in typed if clean_value(field.value)})
        # The actions first: the preview is cut at ten lines, and what the macro does must stay visible.
        text = Text(describe_actions(macro), style="italic")
        text.append("\n")
        text.append(macro.preview(values))
        preview.update(text)

    @on(OptionList.OptionHighlighted, "#macros")
    def _highlighted(self) -> None:
        self._show_preview()

    @on(OptionList.OptionSelected, "#macros")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        await self._choose(self.shown[int(event.option.id or 0)])

    async def submitted(self, field: Input) -> None:
        """Enter in the filter or a value, answered within the key (see `_AtOnceInput`)."""
        if field.id == "filter":
            await self._filter_submitted()
        else:
            self._field_submitted(field)

    async def _filter_submitted(self) -> None:
        macro = self.highlighted_macro()
        if macro is None:
            self.app.bell()
            return
        await self._choose(macro)

    def action_toggle_languages(self) -> None:
        if self.has_class("-form"):
            return
        self.all_languages = not self.all_languages
        self.query_one("#title", Static).update(self._title())
        self._refilter()

    # ------------------------------------------------------------------------------------------ the form

    async def _choose(self, macro: Macro) -> None:
        self.chosen = macro
        self.asking = macro.missing(self.values)
        if not self.asking:
            self.dismiss(macro.fill(self.context))
            return
        title = Text("Fill in for ")
        title.append(macro.name)
        self.query_one("#form-title", Static).update(title)
        self.query_one("#form-error", Static).update("")
        fields = self.query_one("#fields", VerticalScroll)
        await fields.remove_children()
        widgets: list[Static | Input] = []
        for index, name in enumerate(self.asking):
            widgets.append(Static(Text(macro.label(name))))
            widgets.append(_AtOnceInput(placeholder=name, id=f"var-{index}", classes="-variable"))
        await fields.mount_all(widgets)
        self.add_class("-form")
        self._show_preview()
        self.query_one("#hint", Static).update(Text(FORM_HINT))
        self.set_focus(self.query_one("#var-0", Input))

    @on(Input.Changed, ".-variable")
    def _field_changed(self) -> None:
        self._show_preview()

    def _field_inputs(self) -> list[Input]:
        return list(self.query_one("#fields", VerticalScroll).query(Input))

    def _field_submitted(self, field: Input) -> None:
        inputs = self._field_inputs()
        position = inputs.index(field)
        if position + 1 < len(inputs) and not all(clean_value(i.value) for i in inputs[position + 1 :]):
            self.set_focus(inputs[position + 1])
            return
        self._finish()

    def _finish(self) -> None:
        assert self.chosen is not None
        inputs = self._field_inputs()
        answers = {name: clean_value(field.value) for name, field in zip(self.asking, inputs, strict=True)}
        empty = [index for index, name in enumerate(self.asking) if not answers[name]]
        if empty:
            error = Text("Needed: ")
            error.append(", ".join(self.chosen.label(self.asking[i]) for i in empty))
            self.query_one("#form-error", Static).update(error)
            self.set_focus(inputs[empty[0]])
            return
        self.dismiss(self.chosen.fill(self.context, answers))

    # ------------------------------------------------------------------------------------------ keys

    def action_move(self, step: int) -> None:
        if self.has_class("-form"):
            inputs = self._field_inputs()
            focused = self.focused
            if isinstance(focused, Input) and focused in inputs:
                self.set_focus(inputs[(inputs.index(focused) + step) % len(inputs)])
            return
        options = self.query_one("#macros", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_back(self) -> None:
        if self.has_class("-form"):
            self.remove_class("-form")
            self.chosen = None
            self._show_preview()
            self.query_one("#hint", Static).update(Text(PICK_HINT))
            self.set_focus(self.query_one("#filter", Input))
            return
        self.dismiss(None)
