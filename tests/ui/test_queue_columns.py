"""The queue list's columns: titled, wide enough at 120 columns, and aligned in terminal cells (CJK, emoji)."""

from __future__ import annotations

from pathlib import Path

from app_harness import T0, Contact, make_app, seed, wait_for
from rich.cells import cell_len
from standardiste.console.core.model import Channel
from standardiste.widgets.queue_list import QueueHeader, QueueList

CONTACTS = (
    Contact(Channel.EMAIL, "Åsa Lindström", "sv", "Returnera en vara från order 1786016", age=100),
    Contact(Channel.EMAIL, "山田花子", "ja", "注文の返品について教えてください", age=200),
    Contact(Channel.EMAIL, "王小明🙂", "zh", "我的包裹在哪里？订单 4242", age=300),
    Contact(Channel.EMAIL, "Käthe Wagner", "de", "Rückerstattung für Bestellung 77", age=400),
)


def _cell_column(line: str, needle: str) -> int:
    index = line.index(needle)
    return cell_len(line[:index])


async def test_columns_have_titles_room_and_stay_aligned_in_cells(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db", CONTACTS)
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.workspace.views["all"]) == len(CONTACTS), pilot=pilot)
        await pilot.pause()  # one frame: the rows drawn
        queue = app.workspace.query_one(QueueList)
        header = str(app.workspace.query_one(QueueHeader).render())
        for title in ("Customer", "Subject", "Waited", "SLA", "Owner"):
            assert title in header
        rows = [queue.render_line(y).text for y in range(len(CONTACTS))]
        width = queue.scrollable_content_region.width
        assert all(cell_len(row) == width for row in rows)
        by_name = {c.name: next(r for r in rows if c.subject[:4] in r) for c in CONTACTS}
        # Room at 120 columns: a 13-letter name whole, and more than 14 characters of the subject.
        assert "Åsa Lindström" in by_name["Åsa Lindström"]
        assert "Returnera en vara" in by_name["Åsa Lindström"]
        # Every subject starts in the header's Subject column, whatever the name's cell width.
        subject_at = _cell_column(header, "Subject")
        for contact in CONTACTS:
            assert _cell_column(by_name[contact.name], contact.subject[:4]) == subject_at, contact.name
        owner_at = _cell_column(header, "Owner")
        for row in rows:
            # The owner column is empty: what sits under its title is blank, not a pushed-out subject.
            assert row[len(row) - (cell_len(row) - owner_at) :].strip() == ""
