"""The sanitiser: no customer text can drive the terminal, fake the console's styling, or escape a directory.

A corpus of known terminal-injection payloads (each with the text that must survive), then properties over
arbitrary strings (hypothesis), then attachment names. The end-to-end check renders `safe_text` through a
real Rich console with a true-colour terminal and asserts that the bytes written hold no escape at all
(Rich emits SGR codes only for styles, and the text carries none).
"""

from __future__ import annotations

import io
import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from standardiste.console.core.sanitize import BIDI_MARKER, safe_filename, sanitize
from standardiste.widgets.safe_text import safe_text

ESC = "\x1b"
BEL = "\x07"
ST = "\x1b\\"
C0_KEPT = {"\n", "\t"}
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# (name, payload, what must be left). The survivors prove the sanitiser removes the sequence, not the text.
PAYLOADS: list[tuple[str, str, str]] = [
    ("OSC 0 title, BEL", f"{ESC}]0;pwned{BEL}Hello", "Hello"),
    ("OSC 2 title, ST", f"{ESC}]2;pwned{ST}Hello", "Hello"),
    ("OSC 0 title, 8-bit ST", f"{ESC}]0;pwned\x9cHello", "Hello"),
    ("OSC 1 icon title", f"{ESC}]1;icon{BEL}ok", "ok"),
    ("OSC title, unterminated", f"Hi{ESC}]0;everything after is title", "Hi"),
    ("screen clear CSI 2J", f"before{ESC}[2Jafter", "beforeafter"),
    ("screen clear and home", f"{ESC}[H{ESC}[2J{ESC}[3Jclean", "clean"),
    ("full reset ESC c", f"{ESC}creset", "reset"),
    ("OSC 52 clipboard write", f"{ESC}]52;c;Y3VybCBldmlsLnNoIHwgc2g={BEL}copy me", "copy me"),
    ("OSC 52 clipboard, ST", f"{ESC}]52;p;aGk={ST}x", "x"),
    ("OSC 8 hyperlink", f"{ESC}]8;;https://evil.example/{ST}click here{ESC}]8;;{ST}", "click here"),
    ("OSC 8 with id", f"{ESC}]8;id=1;https://evil.example/{BEL}login{ESC}]8;;{BEL}", "login"),
    ("cursor home", f"{ESC}[Htop", "top"),
    ("cursor position", f"{ESC}[10;20Hthere", "there"),
    ("cursor up", f"line{ESC}[3Aup", "lineup"),
    ("cursor down/fwd/back", f"{ESC}[2B{ESC}[5C{ESC}[5Dx", "x"),
    ("erase line", f"Refund DENIED{ESC}[2K{ESC}[1GRefund OK", "Refund DENIEDRefund OK"),
    ("save/restore cursor", f"{ESC}7{ESC}8{ESC}[s{ESC}[uok", "ok"),
    ("hide cursor", f"{ESC}[?25lgone", "gone"),
    ("alternate screen", f"{ESC}[?1049hx{ESC}[?1049l", "x"),
    ("SGR colour", f"{ESC}[31;1mred{ESC}[0m", "red"),
    ("SGR truecolour", f"{ESC}[38;2;255;0;0mred", "red"),
    ("charset switch", f"{ESC}(0lqqk{ESC}(B", "lqqk"),
    ("keypad mode", f"{ESC}={ESC}>k", "k"),
    ("window report request", f"{ESC}[21tq", "q"),
    ("8-bit CSI clear", "a\x9b2Jb", "ab"),
    ("8-bit CSI SGR", "\x9b31mred\x9b0m", "red"),
    ("8-bit OSC title", "\x9d0;pwned\x9cok", "ok"),
    ("8-bit OSC, BEL", f"\x9d2;pwned{BEL}ok", "ok"),
    ("8-bit OSC, 7-bit ST", f"\x9d0;pwned{ST}ok", "ok"),
    ("DCS, ST", f"{ESC}P1$r0m{ST}ok", "ok"),
    ("DCS sixel 8-bit", "\x90q#0;2;0;0;0#0~~\x9cok", "ok"),
    ("DCS DECRQSS", f"{ESC}P$qm{ST}x", "x"),
    ("SOS / PM / APC", f"{ESC}Xs{ST}{ESC}^p{ST}{ESC}_a{ST}ok", "ok"),
    ("8-bit SOS/PM/APC", "\x98s\x9c\x9ep\x9c\x9fa\x9cok", "ok"),
    ("lone ESC at the end", f"abc{ESC}", "abc"),
    ("CSI cut short", f"abc{ESC}[31", "abc"),
    ("double ESC", f"{ESC}{ESC}]0;t{BEL}z", "z"),
    ("NUL", "pay\x00load", "payload"),
    ("backspace erase", "password\x08\x08\x08\x08\x08\x08\x08\x08********", "password********"),
    (
        "carriage-return overwrite",
        "Your refund is approved\rYour refund is DENIED",
        "Your refund is approvedYour refund is DENIED",
    ),
    ("CRLF keeps the line break", "line 1\r\nline 2", "line 1\nline 2"),
    ("bell", "ding\x07dong", "dingdong"),
    ("vertical tab, form feed", "a\x0bb\x0cc", "abc"),
    ("shift out / in", "a\x0eb\x0fc", "abc"),
    ("DEL", "a\x7fb", "ab"),
    ("C1 NEL, IND, RI", "a\x85b\x84c\x8dd", "abcd"),
    ("C1 single shifts", "a\x8e\x8fb", "ab"),
    ("newline and tab kept", "col1\tcol2\nrow2", "col1\tcol2\nrow2"),
    (
        "Trojan Source RLO",
        'access_level != "user\u202e \u2066// Check if admin\u2069 \u2066"',
        'access_level != "user\ufffd \ufffd// Check if admin\ufffd \ufffd"',
    ),
    ("RLO filename", "invoice\u202efdp.exe", "invoice\ufffdfdp.exe"),
    ("LRO / PDF", "\u202dabc\u202c", "\ufffdabc\ufffd"),
    ("RLE / LRE", "\u202bx\u202ay", "\ufffdx\ufffdy"),
    ("isolates LRI RLI FSI PDI", "\u2066a\u2067b\u2068c\u2069", "\ufffda\ufffdb\ufffdc\ufffd"),
    ("Rich markup", "[bold red]fake[/]", "[bold red]fake[/]"),
    (
        "Rich link markup",
        "[link=https://evil.example]Reset your password[/link]",
        "[link=https://evil.example]Reset your password[/link]",
    ),
    ("Rich escaped markup", "\\[not] [reverse]x[/reverse]", "\\[not] [reverse]x[/reverse]"),
    ("Rich emoji code", ":warning: system", ":warning: system"),
    ("plain accents and CJK", "Où est ma commande ? 注文 📦", "Où est ma commande ? 注文 📦"),
    ("Arabic stays readable", "مرحبا بك", "مرحبا بك"),
]


def render(text: str) -> str:
    """What a true-colour terminal would receive for `safe_text(text)`."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="truecolor", width=200, legacy_windows=False
    )
    console.print(safe_text(text))
    return buffer.getvalue()


def assert_clean(cleaned: str, *, single_line: bool = False) -> None:
    for char in cleaned:
        code = ord(char)
        assert char != ESC
        assert not 0x80 <= code <= 0x9F, f"C1 control {code:#x} left"
        assert code != 0x7F
        if code < 0x20:
            assert char in C0_KEPT and not single_line, f"C0 control {code:#x} left"
        assert char not in BIDI_CONTROLS, f"bidi control U+{code:04X} left"


@pytest.mark.parametrize(("name", "payload", "expected"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_known_payloads_are_neutralised(name: str, payload: str, expected: str) -> None:
    cleaned = sanitize(payload)
    assert cleaned == expected
    assert_clean(cleaned)
    assert sanitize(cleaned) == cleaned
    text = safe_text(payload)
    assert text.plain == expected  # markup came out literally, not parsed
    assert text.spans == [] and not text.style
    assert ESC not in render(payload)


def test_rich_markup_is_shown_literally_not_styled() -> None:
    output = render("[bold red]fake[/] and [link=https://evil.example]click[/link]")
    assert "[bold red]fake[/]" in output
    assert "[link=https://evil.example]click[/link]" in output
    assert "\x1b]8;" not in output and "\x1b[1" not in output


def test_a_style_given_by_the_console_is_kept() -> None:
    text = safe_text(f"{ESC}[31mhello", "bold")
    assert (text.plain, str(text.style)) == ("hello", "bold")


def test_single_line_folds_line_breaks_and_tabs() -> None:
    assert sanitize("Subject:\tRe:\r\nyour order\n", single_line=True) == "Subject: Re: your order "
    assert safe_text("a\nb", single_line=True).plain == "a b"
    assert sanitize("", single_line=True) == "" and sanitize("") == ""


# ---------------------------------------------------------------------------------------------- properties

# Every C0 and C1 code, ESC and the bidi controls, plus the bytes that build sequences: hypothesis then
# finds mixtures (a CSI inside an OSC, an ST split by a control...) that a hand-written corpus misses.
CONTROLS = (
    [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + sorted(BIDI_CONTROLS)
)
FRAGMENTS = [
    ESC,
    f"{ESC}[",
    f"{ESC}]",
    f"{ESC}P",
    ST,
    BEL,
    "\x9b",
    "\x9c",
    "\x9d",
    "\x90",
    ";",
    "[",
    "]",
    "\\",
    "m",
    "H",
    "0",
    "2",
    "J",
    "c",
]
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(CONTROLS) | st.characters()),
    st.lists(st.sampled_from(FRAGMENTS + CONTROLS) | st.text(max_size=4), max_size=40).map("".join),
)
printable_char = st.characters(exclude_categories=("Cs",)).filter(lambda c: c.isprintable())
printable_text = st.text(alphabet=printable_char | st.sampled_from(["\n", "\t"]))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
@example(f"{ESC}]0;x\x9d{ESC}[2J")
@example("\x9d0;t\x1b\\rest")
def test_nothing_that_drives_a_terminal_survives(text: str) -> None:
    cleaned = sanitize(text)
    assert_clean(cleaned)
    assert_clean(sanitize(text, single_line=True), single_line=True)
    assert safe_text(text).plain == cleaned


@settings(max_examples=400)
@given(hostile_text)
def test_sanitize_is_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once
    folded = sanitize(text, single_line=True)
    assert sanitize(folded, single_line=True) == folded


@settings(max_examples=400)
@given(printable_text)
def test_printable_text_passes_unchanged(text: str) -> None:
    assert sanitize(text) == text
    assert safe_text(text).plain == text


@settings(max_examples=150, deadline=None)
@given(hostile_text)
def test_rendered_output_holds_no_escape(text: str) -> None:
    output = render(text)
    assert ESC not in output
    assert not any(0x80 <= ord(c) <= 0x9F for c in output)


# Controls that introduce a sequence may take what follows them; every other control goes alone.
INTRODUCERS = {ESC, "\x90", "\x98", "\x9b", "\x9d", "\x9e", "\x9f"}
LONE_CONTROLS = [c for c in CONTROLS if c not in INTRODUCERS]


@settings(max_examples=200)
@given(
    st.text(alphabet=printable_char, max_size=30),
    st.sampled_from(LONE_CONTROLS),
    st.text(alphabet=printable_char, max_size=30),
)
def test_text_around_a_lone_control_is_kept(before: str, control: str, after: str) -> None:
    cleaned = sanitize(before + control + after)
    if control in C0_KEPT:
        assert cleaned == before + control + after
    elif control in BIDI_CONTROLS:
        assert cleaned == before + BIDI_MARKER + after
    else:
        assert cleaned == before + after


# ---------------------------------------------------------------------------------------------- file names

NAME_MAX_BYTES = 255  # ext4, xfs, btrfs, tmpfs: the longest name of one directory entry


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("..\\..\\x", "x"),
        ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
        ("re\x00port\x1b[31m.pdf", "report.pdf"),
        ("name\r\nwith\tbreaks.txt", "name with breaks.txt"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ('what<>:"|?*.txt', "what_______.txt"),
        ("  spaced.txt  ", "spaced.txt"),
        (".bashrc", "bashrc"),
        ("photo.jpg", "photo.jpg"),
        ("Facture n°12 été.pdf", "Facture n°12 été.pdf"),
        ("", "attachment"),
        (".", "attachment"),
        ("..", "attachment"),
        ("...", "attachment"),
        ("../", "attachment"),
        ("\x1b]0;x\x07", "attachment"),
        ("   ", "attachment"),
    ],
)
def test_attachment_names_become_one_safe_component(name: str, expected: str, tmp_path: Path) -> None:
    safe = safe_filename(name)
    assert safe == expected
    target = tmp_path / safe
    target.write_bytes(b"x")
    assert target.resolve().parent == tmp_path.resolve()


def test_the_fallback_is_the_callers() -> None:
    assert safe_filename("../..", fallback="message.eml") == "message.eml"


@pytest.mark.parametrize("stem_char", ["a", "é", "注", "📦"])
def test_very_long_names_fit_a_directory_entry_and_keep_their_extension(
    stem_char: str, tmp_path: Path
) -> None:
    name = stem_char * 1000 + ".pdf"
    safe = safe_filename(name)
    assert len(safe.encode()) <= NAME_MAX_BYTES
    assert safe.endswith(".pdf")
    assert safe.startswith(stem_char * 10)
    (tmp_path / safe).write_bytes(b"%PDF")  # the real test: the file system accepts it
    assert os.listdir(tmp_path) == [safe]


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=600)
    | st.lists(st.sampled_from(["..", "/", "\\", ".", "a", "é", "📦", ESC, "\x00", " "]), max_size=300).map(
        "".join
    )
)
def test_any_name_is_one_creatable_file_inside_the_directory(name: str) -> None:
    safe = safe_filename(name)
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".")
    assert len(safe.encode()) <= NAME_MAX_BYTES
    assert_clean(safe, single_line=True)
    assert all(unicodedata.category(c) != "Cc" for c in safe)
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / safe
        target.write_bytes(b"")
        assert os.listdir(directory) == [safe]
        assert target.resolve().parent == Path(directory).resolve()
