"""p asks which priority (a picker, most urgent first) and says what changed; it no longer cycles."""

from __future__ import annotations

from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Priority
from standardiste.console.ui.dialogs import PickDialog

SIZE = (160, 50)


async def test_priority_is_picked_and_the_change_is_said(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: mail in app.store.conversations, pilot=pilot)
        await pilot.pause()
        app.workspace.queue.select_id(mail)
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, PickDialog), pilot=pilot)
        dialog = app.screen
        assert isinstance(dialog, PickDialog)
        assert [value for value, _ in dialog.options] == ["urgent", "high", "normal", "low"]
        assert app.store.conversations[mail].priority is Priority.NORMAL  # nothing changed by p alone
        await pilot.press("1")  # urgent (a cycle from normal would have given high)
        await wait_for(lambda: app.store.conversations[mail].priority is Priority.URGENT, pilot=pilot)
        said = lambda: [n.message for n in app.said]  # noqa: E731
        await wait_for(lambda: any("normal → urgent" in m for m in said()), pilot=pilot)
        assert any("John Smith" in m for m in said() if "→" in m)
    assert Workspace(db).require(mail).priority is Priority.URGENT
