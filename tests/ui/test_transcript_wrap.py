"""Long lines of a conversation wrap at the pane's width instead of being cut: the customer's text, the timeline
and the quoted mail (unfolded with `o`, each line still marked `>`), measured in cells so that Chinese text and
emoji fit too. Pilot over a real workspace file, at 80x24 (the detail over the list) and 120x40 (side by side)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from rich.cells import cell_len
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Direction
from standardiste.widgets.transcript import Transcript

NEW_TEXT = (
    "I ordered the large photo book for my grandmother's birthday and it still has not arrived although the "
    "tracking page said it would be delivered last Tuesday, could you please check what happened to it 🎁📦 "
    "我的订单还没有到达请帮我查一下包裹现在在哪里谢谢你们的帮助我真的很着急因为这是送给奶奶的生日礼物"
)
QUOTED = (
    "> Thank you for your order EU1234567: your photo book is being printed and will be shipped within three "
    "working days, 写真集は三営業日以内に発送されますのでしばらくお待ちくださいませ 🙏"
)
TIMELINE = (
    "call transferred by Alice to the billing queue because the customer asked about a double charge on the "
    "card statement of last month 💳 and wanted to speak to someone who can refund it"
)


def _seed(path: Path) -> str:
    [cid] = seed(path, [Contact(Channel.EMAIL, "Wang Fang 王芳", "zh", "Photo book", body="x", age=600)])
    ws = Workspace(path)
    ws.add_message(cid, direction=Direction.SYSTEM, body=TIMELINE, author="alice")
    body = f"{NEW_TEXT}\n\nOn Monday, Photoways wrote:\n{QUOTED}\n> > {QUOTED[2:]}"
    ws.add_message(cid, direction=Direction.INBOUND, body=body, author="Wang Fang 王芳")
    ws.close()
    return cid


def _drawn(transcript: Transcript) -> list[str]:
    """Every line as drawn on the screen, scrolling the transcript from top to bottom."""
    width = transcript.scrollable_content_region.width
    height = transcript.scrollable_content_region.height
    lines: list[str] = []
    total = transcript.virtual_size.height
    for top in range(0, total, height):
        transcript.scroll_to(y=top, animate=False, immediate=True)
        offset = transcript.scroll_offset.y  # the last page stops at the end, above `top`
        for index in range(top, min(top + height, total)):
            strip = transcript.render_line(index - offset)
            assert strip.cell_length == width
            lines.append(strip.text.rstrip())
    return lines


def _words(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_long_message_timeline_and_quoted_lines_wrap_in_cells(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    cid = _seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: cid in app.store.conversations and app.hub_ready, pilot=pilot)
        assert app.workspace.queue.select_id(cid)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == cid, pilot=pilot)
        transcript = app.workspace.query_one(Transcript)
        await wait_for(lambda: len(transcript.messages) == 3, pilot=pilot)
        transcript.focus()
        await pilot.press("o")  # unfold the quoted mail
        await pilot.pause()
        width = transcript.scrollable_content_region.width
        lines = _drawn(transcript)
        assert all(cell_len(line) <= width for line in lines)
        text = "".join(lines)
        # Nothing cut: every character of the new text, the timeline and both quotes is on the screen.
        assert _words(NEW_TEXT) in _words(text)
        assert _words(TIMELINE) in _words(text)
        quote_lines = [line.strip() for line in lines if line.strip().startswith(">")]
        single = [line for line in quote_lines if not line.startswith("> >")]
        double = [line for line in quote_lines if line.startswith("> >")]
        assert len(single) > 1 and len(double) > 1  # each quote wrapped, its marker on every line
        assert _words("".join(line[1:] for line in single)) == _words(QUOTED[1:])
        assert _words("".join(line[3:] for line in double)) == _words(QUOTED[1:])
        # The timeline's continuation lines sit under its text, not under the time.
        start = next(i for i, line in enumerate(lines) if "call transferred" in line)
        assert lines[start + 1].startswith(" " * (lines[start].index("call")))
