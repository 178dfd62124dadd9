"""The macro picker alone, in a tiny app that pushes it: filter, language preference, the variable form."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import conversation as new_conversation
from rich.text import Text
from standardiste.backends.base import EndChat, Reply, Tags, WrapUp
from standardiste.console.core.macros import FilledMacro, MacroContext, MacroLibrary, load_library
from standardiste.console.core.model import Channel, Conversation, State
from standardiste.console.ui.macro_picker import MacroPicker, describe_actions
from textual.app import App
from textual.widgets import Input, OptionList, Static

UNSET = object()


class PickerApp(App[None]):
    def __init__(self, library: MacroLibrary, context: MacroContext) -> None:
        super().__init__()
        self.library = library
        self.context = context
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(MacroPicker(self.library, self.context), self._picked)

    def _picked(self, result: FilledMacro | None) -> None:
        self.result = result


def conversation(
    subject: str,
    *,
    channel: Channel = Channel.EMAIL,
    state: State = State.OPEN,
    language: str = "en",
    name: str = "Jane Doe",
) -> Conversation:
    return new_conversation("local:9", channel, state, subject=subject, customer_name=name, language=language)


@pytest.fixture(scope="module")
def library() -> MacroLibrary:
    return load_library()


def picker(app: PickerApp) -> MacroPicker:
    screen = app.screen
    assert isinstance(screen, MacroPicker)
    return screen


def listed(app: PickerApp) -> list[tuple[str, str]]:
    return [(m.language, m.id) for m in picker(app).shown]


def plain(static: Static) -> str:
    content = static.content
    assert isinstance(content, Text)  # never a markup string
    return content.plain


async def test_typing_filters_and_enter_picks_a_macro_with_nothing_to_ask(library: MacroLibrary) -> None:
    chat = conversation(
        "Question", channel=Channel.CHAT, state=State.ACTIVE, language="fr", name="Élodie Martin"
    )
    app = PickerApp(library, MacroContext(conversation=chat, agent_name="Camille Roux"))
    async with app.run_test(size=(100, 40)) as pilot:
        assert listed(app) == [
            ("fr", "chat-greeting"),
            ("fr", "chat-closing"),
            ("fr", "chat-parcel"),
            ("fr", "payment-security"),
        ]
        await pilot.press("b", "y")
        assert listed(app) == [("fr", "chat-closing")]
        assert app.screen.query_one("#macros", OptionList).option_count == 1
        assert "Merci pour cet échange, Élodie." in plain(app.screen.query_one("#preview", Static))
        await pilot.press("enter")
        await pilot.pause()
    result = app.result
    assert isinstance(result, FilledMacro)
    assert result.macro.id == "chat-closing" and result.macro.language == "fr"
    assert result.send_now
    commands = result.commands(chat.id, channel=chat.channel, state=chat.state)
    assert commands == [
        Reply(conversation_id=chat.id, body=result.text),
        EndChat(conversation_id=chat.id),
        WrapUp(conversation_id=chat.id, disposition="resolved"),
    ]
    assert result.text.startswith("Merci pour cet échange, Élodie.")


async def test_arrows_move_and_the_preview_follows(library: MacroLibrary) -> None:
    app = PickerApp(library, MacroContext(conversation=conversation("Hello"), agent_name="Sam"))
    async with app.run_test(size=(100, 40)) as pilot:
        options = app.screen.query_one("#macros", OptionList)
        assert options.highlighted == 0
        first = listed(app)[0][1]
        await pilot.press("down", "down")
        assert options.highlighted == 2
        assert picker(app).highlighted_macro() is picker(app).shown[2]
        third = picker(app).shown[2]
        preview = plain(app.screen.query_one("#preview", Static))
        assert preview == describe_actions(third) + "\n" + third.preview(picker(app).values)
        await pilot.press("up", "up", "up")
        assert options.highlighted == 0
        assert picker(app).shown[0].id == first


@pytest.mark.parametrize("language", ["pt", "sv", "nb", "da", "fi", "pl"])
async def test_customers_in_the_simulators_languages_get_macros_in_theirs(
    library: MacroLibrary, language: str
) -> None:
    app = PickerApp(
        library, MacroContext(conversation=conversation("Order 1042", language=language), agent_name="Kim")
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert listed(app) and {lang for lang, _ in listed(app)} == {language}
        assert "Kim" in plain(app.screen.query_one("#preview", Static))  # the text is filled in that language
        assert "English" not in plain(app.screen.query_one("#title", Static))  # all of them are translated


async def test_language_first_english_fallback_and_all_languages(library: MacroLibrary) -> None:
    app = PickerApp(
        library, MacroContext(conversation=conversation("Dobrý den", language="cs"), agent_name="Jan")
    )
    async with app.run_test(size=(100, 40)) as pilot:
        assert listed(app) and {lang for lang, _ in listed(app)} == {"en"}
        assert "English where not translated" in plain(app.screen.query_one("#title", Static))
        count = len(listed(app))
        await pilot.press("ctrl+l")
        languages = [lang for lang, _ in listed(app)]
        assert languages[:count] == ["en"] * count
        assert set(languages) == {"en", "fr", "de", "es", "it", "nl", "pt", "sv", "nb", "da", "fi", "pl"}
        assert "all languages" in plain(app.screen.query_one("#title", Static))
        await pilot.press("ctrl+l")
        assert len(listed(app)) == count

    german = PickerApp(
        library, MacroContext(conversation=conversation("Paket", language="de"), agent_name="Jo")
    )
    async with german.run_test(size=(100, 40)) as pilot:
        assert {lang for lang, _ in listed(german)} == {"de"}
        german.screen.query_one("#filter", Input).value = "paket"
        await pilot.pause()
        assert listed(german)[0] == ("de", "where-is-my-parcel")


async def test_unknown_values_are_asked_for_then_the_filled_macro_returns(library: MacroLibrary) -> None:
    email = conversation("Rückerstattung für Bestellung DE1234567", language="de", name="Jürgen Weiß")
    app = PickerApp(library, MacroContext(conversation=email, agent_name="Anna Berg"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("r", "e", "f", "u", "n", "d")
        assert listed(app)[0] == ("de", "refund")
        await pilot.press("enter")
        await pilot.pause()
        screen = picker(app)
        assert screen.has_class("-form")
        assert screen.asking == ("refund.amount",)  # the order number came from the subject
        assert "Refund amount" in "".join(
            plain(s) for s in app.screen.query("#fields Static").results(Static)
        )
        assert isinstance(app.focused, Input) and app.focused.id == "var-0"
        await pilot.press("enter")  # empty: refused, says what is needed
        assert app.result is UNSET
        assert "Needed: Refund amount" in plain(app.screen.query_one("#form-error", Static))
        await pilot.press("4", "2", ",", "9", "0")
        field = app.focused
        assert isinstance(field, Input)
        field.insert_text_at_cursor(" €")
        await pilot.pause()
        assert "Wir erstatten Ihnen 42,90 € innerhalb" in plain(app.screen.query_one("#preview", Static))
        await pilot.press("enter")
        await pilot.pause()
    result = app.result
    assert isinstance(result, FilledMacro)
    assert "Bestellung DE1234567" in result.text and "Wir erstatten Ihnen 42,90 € innerhalb" in result.text
    assert result.text.startswith("Hallo Jürgen,")
    assert not result.send_now
    assert result.follow_up(email.id, channel=email.channel) == [
        Tags(conversation_id=email.id, add=("refund",))
    ]


async def test_several_fields_enter_moves_on_and_escape_goes_back(library: MacroLibrary) -> None:
    email = conversation("Where is my parcel?", name="Jane Doe")
    app = PickerApp(library, MacroContext(conversation=email, agent_name="Sam Carter"))
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#filter", Input).value = "wism"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = picker(app)
        assert screen.asking == ("order.id", "carrier.name", "tracking.number", "tracking.url")
        await pilot.press("escape")  # back to the list, nothing returned
        assert not screen.has_class("-form") and app.result is UNSET
        assert isinstance(app.focused, Input) and app.focused.id == "filter"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.has_class("-form")
        values = ["#55501", "Colissimo", "6A12345678901", "https://t.example/6A1"]
        for index, value in enumerate(values):
            assert isinstance(app.focused, Input) and app.focused.id == f"var-{index}"
            app.focused.value = value
            await pilot.press("enter")
            await pilot.pause()
    result = app.result
    assert isinstance(result, FilledMacro)
    assert (
        "order #55501 has been shipped and is now with Colissimo, tracking number 6A12345678901"
        in result.text
    )
    assert "follow it here: https://t.example/6A1" in result.text


async def test_escape_on_the_list_returns_none(library: MacroLibrary) -> None:
    app = PickerApp(library, MacroContext(conversation=conversation("x"), agent_name="Sam"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_hostile_names_are_shown_and_returned_as_plain_text(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'language = "en"\n[[macro]]\nid = "hello"\nname = "[red]Hello[/red]"\nshortcut = "qqhi"\n'
        'text = "Hi {{customer.name}}, {{tracking.number}}"\n',
        encoding="utf-8",
    )
    library = load_library(tmp_path)
    hostile = "[bold]Eve[/bold]\x1b]0;owned\x07\x1b[2J"
    app = PickerApp(library, MacroContext(conversation=conversation("x", name=hostile), agent_name="Sam"))
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#filter", Input).value = "qqhi"
        await pilot.pause()
        assert listed(app) == [("en", "hello")]
        row = app.screen.query_one("#macros", OptionList).get_option_at_index(0).prompt
        assert isinstance(row, Text) and "[red]Hello[/red]" in row.plain
        assert (
            plain(app.screen.query_one("#preview", Static))
            == "inserts\nHi [bold]Eve[/bold], ⟨Tracking number⟩"
        )
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#var-0", Input).value = "[link=file:///etc/passwd]1Z999[/link]\x1b[31m"
        await pilot.press("enter")
        await pilot.pause()
    result = app.result
    assert isinstance(result, FilledMacro)
    assert result.text == "Hi [bold]Eve[/bold], [link=file:///etc/passwd]1Z999[/link]"
