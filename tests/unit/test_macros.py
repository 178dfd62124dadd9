"""Macros: the shipped library, rendering, order numbers in subjects, hostile values, commands, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import conversation as new_conversation
from rich.text import Text
from standardiste.backends.base import EndChat, HangUp, Reply, SetPriority, SetStatus, Tags, WrapUp
from standardiste.console.core.macros import (
    BUILTIN_VARIABLES,
    Macro,
    MacroContext,
    MacroError,
    MissingValues,
    Mode,
    extract_order_id,
    language_preference,
    load_file,
    load_library,
    parse_macros,
    shipped_macros,
)
from standardiste.console.core.model import Channel, Conversation, Customer, Priority, State

PACKAGE = Path(__file__).resolve().parents[2]
SHIPPED = PACKAGE / "console" / "core" / "macros"
# The simulator's twelve languages: a customer in any of them gets macros in their language.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "sv", "nb", "da", "fi", "pl")
EXPECTED_IDS = {
    "chat-greeting",
    "chat-closing",
    "chat-parcel",
    "where-is-my-parcel",
    "refund",
    "return-label",
    "payment-security",
    "order-change",
    "photo-quality",
}


def conversation(
    subject: str = "Refund for order EU1234567",
    *,
    channel: Channel = Channel.EMAIL,
    state: State = State.OPEN,
    language: str = "en",
    name: str = "Jane Doe",
) -> Conversation:
    return new_conversation("local:7", channel, state, subject=subject, customer_name=name, language=language)


def one(text: str, source: str = "test.toml") -> Macro:
    macros = parse_macros(text, source)
    assert len(macros) == 1
    return macros[0]


# ---------------------------------------------------------------------------------------------- shipped


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shipped_file_loads_with_the_same_macros(language: str) -> None:
    path = SHIPPED / f"{language}.toml"
    macros = load_file(path)
    assert {m.id for m in macros} == EXPECTED_IDS
    assert {m.language for m in macros} == {language}
    for macro in macros:
        assert set(macro.variables) <= set(BUILTIN_VARIABLES)
        assert macro.name and macro.text
        assert "{{" not in macro.preview({})  # every placeholder was recognised
    by_id = {m.id: m for m in macros}
    english = {m.id: m for m in load_file(SHIPPED / "en.toml")}
    for macro_id, macro in by_id.items():  # a translation asks for what the English one asks, no more
        assert set(macro.variables) == set(english[macro_id].variables), macro_id
        assert macro.channels == english[macro_id].channels and macro.add_tags == english[macro_id].add_tags
    refund = by_id["refund"]
    assert refund.add_tags == ("refund",)
    assert "2" in refund.text  # the two-day promise, in every language
    assert by_id["chat-closing"].close and by_id["chat-closing"].mode is Mode.SEND
    assert by_id["chat-greeting"].channels == frozenset({Channel.CHAT})


def test_the_package_library_is_every_file_in_the_folder() -> None:
    macros = shipped_macros()
    assert len(macros) == len(LANGUAGES) * len(EXPECTED_IDS)
    library = load_library(None)
    assert library.errors == ()
    assert library.languages() == sorted(LANGUAGES)


# ---------------------------------------------------------------------------------------------- rendering


def test_known_values_fill_the_text_and_unknown_ones_are_asked_for() -> None:
    library = load_library()
    macro = library.get("refund", "en")
    assert macro is not None
    context = MacroContext(conversation=conversation(), agent_name="Sam Carter")
    assert macro.missing(context.values()) == ("refund.amount",)
    with pytest.raises(MissingValues) as error:
        macro.render(context.values())
    assert error.value.names == ("refund.amount",)
    filled = macro.fill(context, {"refund.amount": " €42.90 "})
    assert filled.text.startswith("Hello Jane,\n\n")
    assert "order EU1234567" in filled.text
    assert "refund of €42.90 will" in filled.text
    assert filled.text.endswith("Sam Carter\nCustomer service")
    assert dict(filled.values) == {
        "customer.first_name": "Jane",
        "order.id": "EU1234567",
        "refund.amount": "€42.90",
        "agent.name": "Sam Carter",
    }


def test_the_agent_may_correct_a_guessed_value_and_the_app_may_supply_one() -> None:
    macro = one('language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "{{order.id}} at {{shop.name}}"\n')
    context = MacroContext(conversation=conversation("Order 55555"), extra={"shop.name": "Photoways"})
    assert macro.missing(context.values()) == ()
    assert macro.fill(context).text == "55555 at Photoways"
    assert macro.fill(context, {"order.id": "66666"}).text == "66666 at Photoways"


def test_customer_record_wins_over_the_conversation_name_and_odd_names_are_asked() -> None:
    customer = Customer(id="c1", name="Łucja Sæther", language="pl", email="l@example.org")
    values = MacroContext(conversation=conversation(name="someone"), customer=customer).values()
    assert values["customer.first_name"] == "Łucja"
    assert values["customer.last_name"] == "Sæther"
    assert values["customer.email"] == "l@example.org"
    for odd in ("jean.dupont@example.org", "+33 6 12 34 56 78", ""):
        values = MacroContext(conversation=conversation(name=odd)).values()
        assert "customer.first_name" not in values and "customer.name" not in values
    assert "customer.last_name" not in MacroContext(conversation=conversation(name="Madonna")).values()


def test_context_language_falls_back_from_conversation_to_customer_to_english() -> None:
    assert MacroContext(conversation=conversation(language="fr-BE")).language == "fr-be"
    assert MacroContext(customer=Customer(id="c", name="A", language="DE")).language == "de"
    assert MacroContext().language == "en"
    assert language_preference("pt_BR") == ["pt-br", "pt", "en"]
    assert language_preference("en") == ["en"]


# ---------------------------------------------------------------------------------------------- order ids


def _simulator_subjects() -> list[tuple[str, str]]:
    """Every subject pattern the traffic simulator writes, in its twelve languages, with an order in it."""
    data = json.loads((PACKAGE / "backends" / "local" / "simulator" / "data" / "people.json").read_text())
    out = []
    for language, spec in data["languages"].items():
        for topic, texts in spec["topics"].items():
            if "{order}" in texts["subject"]:
                out.append((f"{language}/{topic}", texts["subject"].format(order="FR7654321")))
    return out


@pytest.mark.parametrize(("where", "subject"), _simulator_subjects())
def test_order_numbers_come_out_of_every_simulated_subject(where: str, subject: str) -> None:
    assert extract_order_id(subject) == "FR7654321", where


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Where is my order #12345?", "12345"),
        ("#12345", "12345"),
        ("Re: order 12345 not delivered", "12345"),
        ("Order no. 98765", "98765"),
        ("order number: A-10042", "A-10042"),
        ("Commande n° 4455667 : colis abîmé", "4455667"),
        ("commande 12345", "12345"),
        ("Bestellung 12345 fehlt", "12345"),
        ("Bestellnummer: 3344556", "3344556"),
        ("Pedido nº 778899", "778899"),
        ("Ordine 445566 danneggiato", "445566"),
        ("Bestelling 123456", "123456"),
        ("Zwrot za zamówienia 998877", "998877"),
        ("Re: #2 – commande FR1234567", "FR1234567"),  # the keyword beats a bare hash
        ("ORDER fr1234567", "fr1234567"),  # as written
    ],
)
def test_order_number_patterns(subject: str, expected: str) -> None:
    assert extract_order_id(subject) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "",
        "Is my card payment secure?",
        "I ordered 2 items",
        "order 2 items please",
        "Commande du 12/03",
        "Recording &#12345; entity",
        "My #1 shop",
    ],
)
def test_no_order_number_is_invented(subject: str) -> None:
    assert extract_order_id(subject) is None


def test_order_not_in_subject_is_prompted() -> None:
    library = load_library()
    macro = library.get("where-is-my-parcel", "fr")
    assert macro is not None
    context = MacroContext(conversation=conversation("Où est mon colis ?", language="fr"), agent_name="Léa")
    assert macro.missing(context.values()) == ("order.id", "carrier.name", "tracking.number", "tracking.url")
    assert "agent.name" in macro.missing(MacroContext(conversation=conversation(language="fr")).values())


# ---------------------------------------------------------------------------------------------- hostile


HOSTILE = "[bold]Eve[/bold]\x1b]0;pwned\x07\x1b[31m Mal\u202eloy\nx"


def test_hostile_customer_names_become_plain_inert_text() -> None:
    macro = one('language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "Hi {{customer.name}}!"\n')
    text = macro.fill(MacroContext(conversation=conversation(name=HOSTILE))).text
    assert text == "Hi [bold]Eve[/bold] Mal\ufffdloy x!"
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\n" not in text
    # Shown as Text it stays literal: no markup was parsed, the brackets are on screen.
    assert Text(text).plain == text


def test_values_are_substituted_once_never_expanded_again() -> None:
    macro = one(
        'language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "{{customer.first_name}} / {{agent.name}}"\n'
    )
    context = MacroContext(conversation=conversation(name="{{agent.name}} Smith"), agent_name="Sam")
    assert macro.fill(context).text == "{{agent.name}} / Sam"
    answered = macro.fill(context, {"customer.first_name": "\x1b[2J{{order.id}}"})
    assert answered.text == "{{order.id}} / Sam"


def test_a_user_file_cannot_smuggle_escapes_into_a_reply() -> None:
    macro = one(
        'language = "en"\n[[macro]]\nid = "x"\nname = "X\\u001b[31m"\ntext = "a\\u001b]52;c;ZXZpbA==\\u0007b"\n'
    )
    assert macro.text == "ab"
    assert macro.name == "X"


# ---------------------------------------------------------------------------------------------- commands

FULL = """
language = "en"
[[macro]]
id = "full"
name = "Everything"
text = "Done."
add_tags = ["refund", "vip"]
remove_tags = ["new"]
priority = "urgent"
status = "pending"
"""


def test_commands_come_in_sending_order() -> None:
    macro = one(FULL)
    commands = macro.commands("local:7", "Done, Jane.")
    assert commands == [
        Reply(conversation_id="local:7", body="Done, Jane."),
        Tags(conversation_id="local:7", add=("refund", "vip"), remove=("new",)),
        SetPriority(conversation_id="local:7", priority=Priority.URGENT),
        SetStatus(conversation_id="local:7", state=State.PENDING),
    ]
    assert macro.commands("local:7", None) == commands[1:]
    assert macro.commands("local:7", "") == commands[1:]
    with pytest.raises(ValueError, match="chat cannot be pending"):
        macro.commands("local:7", "x", channel=Channel.CHAT)


CLOSING = """
language = "en"
[[macro]]
id = "bye"
name = "Bye"
mode = "send"
close = true
{extra}
text = "Bye {{{{customer.first_name}}}}."
"""


def test_closing_depends_on_the_channel_and_state() -> None:
    macro = one(CLOSING.format(extra='disposition = "resolved"'))
    cid = "local:7"
    reply = Reply(conversation_id=cid, body="Bye Jane.")
    wrap = WrapUp(conversation_id=cid, disposition="resolved")
    assert macro.commands(cid, "Bye Jane.", channel=Channel.CHAT) == [
        reply,
        EndChat(conversation_id=cid),
        wrap,
    ]
    assert macro.commands(cid, None, channel=Channel.PHONE) == [HangUp(conversation_id=cid), wrap]
    assert macro.commands(cid, None, channel=Channel.CHAT, state=State.WRAP_UP) == [wrap]
    assert macro.commands(cid, None, channel=Channel.CHAT, state=State.ENDED) == []
    assert macro.commands(cid, None, channel=Channel.EMAIL) == [
        SetStatus(conversation_id=cid, state=State.SOLVED)
    ]
    assert macro.commands(cid, None, channel=Channel.CALLBACK) == [
        SetStatus(conversation_id=cid, state=State.DONE)
    ]
    with pytest.raises(ValueError, match="channel is needed"):
        macro.commands(cid, "Bye.")
    assert not macro.needs_disposition(Channel.CHAT)
    bare = one(CLOSING.format(extra=""))
    assert bare.needs_disposition(Channel.CHAT) and not bare.needs_disposition(Channel.EMAIL)
    assert bare.commands(cid, None, channel=Channel.CHAT) == [EndChat(conversation_id=cid)]


def test_filled_macro_gives_all_commands_or_only_the_follow_up() -> None:
    library = load_library()
    closing = library.get("chat-closing", "de")
    assert closing is not None
    chat = conversation("Frage", channel=Channel.CHAT, state=State.ACTIVE, language="de", name="Jürgen Weiß")
    filled = closing.fill(MacroContext(conversation=chat))
    assert filled.send_now
    commands = filled.commands(chat.id, channel=chat.channel, state=chat.state)
    assert [type(c) for c in commands] == [Reply, EndChat, WrapUp]
    assert isinstance(commands[0], Reply) and "Jürgen" in commands[0].body
    assert filled.follow_up(chat.id, channel=chat.channel) == commands[1:]
    refund = library.get("refund", "en")
    assert refund is not None and not refund.send_now
    assert refund.fill(
        MacroContext(conversation=conversation(), agent_name="Sam"), {"refund.amount": "£5"}
    ).follow_up("local:7") == [Tags(conversation_id="local:7", add=("refund",))]


# ---------------------------------------------------------------------------------------------- choosing


def test_candidates_prefer_the_language_then_english_and_respect_the_channel() -> None:
    library = load_library()
    french = library.candidates("fr", Channel.EMAIL)
    assert french and all(m.language == "fr" for m in french)
    assert "chat-greeting" not in {m.id for m in french}
    portuguese = library.candidates("pt-BR", Channel.CHAT)
    assert {m.language for m in portuguese} == {"pt"}
    czech = library.candidates("cs-CZ", Channel.CHAT)  # no Czech file: English
    assert {m.language for m in czech} == {"en"}
    assert {m.id for m in czech} == {"chat-greeting", "chat-closing", "chat-parcel", "payment-security"}
    everything = library.candidates("fr", Channel.EMAIL, all_languages=True)
    assert [m.language for m in everything[: len(french)]] == ["fr"] * len(french)
    assert {m.language for m in everything} == set(LANGUAGES)
    assert library.candidates("en", Channel.PHONE) == []  # a call has nothing to reply to
    # A pending status is for threads: order-change is not offered on a chat.
    assert "order-change" not in {m.id for m in library.candidates("en", Channel.CHAT)}


def test_search_ranks_shortcuts_first_and_ignores_case_and_accents() -> None:
    library = load_library()
    assert library.search("rl", "fr", Channel.EMAIL)[0].id == "return-label"
    assert library.search("OU EST", "fr", Channel.EMAIL)[0].id == "where-is-my-parcel"
    found = [m.id for m in library.search("rembours", "fr", Channel.EMAIL)]
    assert found[0] == "refund" and "return-label" in found  # its text promises a refund too
    assert library.search("zzzz", "fr") == []
    assert len(library.search("  ", "fr", Channel.EMAIL)) == len(library.candidates("fr", Channel.EMAIL))


# ---------------------------------------------------------------------------------------------- user files


def test_user_files_override_shipped_macros_and_add_their_own(tmp_path: Path) -> None:
    (tmp_path / "shop.toml").write_text(
        """
language = "fr"

[variables]
voucher.code = "Code du bon d'achat"

[[macro]]
id = "refund"
name = "Remboursement (Photoways)"
shortcut = "refund"
add_tags = ["refund", "photoways"]
text = "Bonjour {{customer.first_name}}, remboursé sous 48 h. Bon : {{voucher.code}}"

[[macro]]
id = "vip"
language = "en"
name = "VIP"
add_tags = ["vip"]
priority = "high"
""",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a macro file")
    library = load_library(tmp_path)
    assert library.errors == ()
    refund = library.get("refund", "fr")
    assert refund is not None and refund.name == "Remboursement (Photoways)"
    assert refund.label("voucher.code") == "Code du bon d'achat"
    assert library.get("refund", "de") is not None and library.get("refund", "de").name.startswith("Rück")  # type: ignore[union-attr]
    ids_fr = [m.id for m in library.candidates("fr", Channel.EMAIL)]
    assert ids_fr.count("refund") == 1
    assert ids_fr.index("refund") == [m.id for m in load_library().candidates("fr", Channel.EMAIL)].index(
        "refund"
    )
    assert "vip" in ids_fr  # English fallback, and an action-only macro is for every channel
    assert library.get("vip", "en") in library.candidates("en", Channel.PHONE)


def test_a_bad_user_file_is_skipped_whole_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a-good.toml").write_text('language = "en"\n[[macro]]\nid = "ok"\nname = "OK"\ntext = "ok"\n')
    (tmp_path / "b-bad.toml").write_text(
        'language = "en"\n[[macro]]\nid = "fine"\nname = "Fine"\ntext = "fine"\n\n'
        '[[macro]]\nid = "oops"\nname = "Oops"\ntext = """\nHello\n{{customer.frist_name}}\n"""\n'
    )
    (tmp_path / "c-dup.toml").write_text(
        'language = "en"\n[[macro]]\nid = "ok"\nname = "Again"\ntext = "x"\n'
    )
    library = load_library(tmp_path)
    assert library.get("ok", "en") is not None and library.get("ok", "en").name == "OK"  # type: ignore[union-attr]
    assert library.get("fine", "en") is None  # nothing of a bad file is used
    assert library.get("refund", "en") is not None  # the shipped library is still there
    bad, dup = library.errors
    assert str(bad).startswith(
        f"{tmp_path / 'b-bad.toml'}:12: macro 'oops': unknown variable {{{{customer.frist_name}}}}"
    )
    assert "did you mean 'customer.first_name'" in str(bad)
    assert bad.line == 12
    assert dup.source == str(tmp_path / "c-dup.toml") and "already defined in" in dup.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('language = "en"\n[[macro]]\nid = "x"\nname = "X\ntext = "y"\n', 4, "not valid TOML"),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "{{order.number}}"\n',
            5,
            "unknown variable",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "a {{ bad name }}"\n',
            5,
            "not a variable name",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\n\ntext = """\nok\n{{order.id\n"""\n',
            8,
            "never closed",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\nadd_tag = ["a"]\ntext = "t"\n',
            5,
            "unknown key 'add_tag'",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\nstatus = "closed"\ntext = "t"\n',
            5,
            "unknown status",
        ),
        ('language = "en"\n[[macro]]\nid = "x"\nname = "X"\npriority = "asap"\n', 5, "priority must be"),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\nchannels = ["chat"]\nstatus = "solved"\n',
            6,
            "a chat cannot be solved",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\nclose = true\nstatus = "solved"\n',
            6,
            "drop `status`",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\ndisposition = "refund"\ntext = "t"\n',
            5,
            "close = true",
        ),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\nmode = "send"\nadd_tags = ["a"]\n',
            5,
            "nothing to send",
        ),
        ('language = "en"\n[[macro]]\nid = "x"\nname = "X"\n', 2, "it would do nothing"),
        ('language = "en"\n[[macro]]\nid = "Bad Id"\nname = "X"\ntext = "t"\n', 3, "id must be"),
        ('[[macro]]\nid = "x"\nname = "X"\ntext = "t"\n', 1, "no language"),
        ('language = "english"\n[[macro]]\nid = "x"\nname = "X"\ntext = "t"\n', 1, "language tag"),
        ('language = "en"\nmacros = []\n', 2, "unknown top-level key 'macros'"),
        ('language = "en"\n[variables]\n"customer.name" = "Name"\n', 2, "built in"),
        (
            'language = "en"\n[[macro]]\nid = "x"\nname = "X"\ntext = "a"\n[[macro]]\nid = "x"\nname = "Y"\ntext = "b"\n',
            6,
            "defined twice (first at line 2)",
        ),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MacroError) as caught:
        load_file(path)
    error = caught.value
    assert error.source == str(path)
    assert error.line == line, str(error)
    assert words in error.message
    assert str(error).startswith(f"{path}:{line}: ")


def test_unreadable_file_is_a_macro_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'language = "fr"\n# \xe9\n')
    with pytest.raises(MacroError, match="cannot read"):
        load_file(path)


def test_the_documented_example_loads_and_overrides(tmp_path: Path) -> None:
    doc = (PACKAGE / "docs" / "macros.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "photoways-fr.toml").write_text(example, encoding="utf-8")
    library = load_library(tmp_path)
    assert library.errors == ()
    refund = library.get("refund", "fr")
    assert refund is not None and refund.name == "Remboursement + bon d'achat"
    assert refund.variables == (
        "customer.first_name",
        "refund.amount",
        "order.id",
        "voucher.code",
        "agent.name",
    )
    assert refund.commands("local:1", None, channel=Channel.EMAIL) == [
        Tags(conversation_id="local:1", add=("refund",), remove=("awaiting-return",)),
        SetPriority(conversation_id="local:1", priority=Priority.HIGH),
        SetStatus(conversation_id="local:1", state=State.PENDING),
    ]
    closing = library.get("chat-closing", "fr")
    assert closing is not None and closing.text == "Merci et très bonne journée, {{customer.first_name}} !"
