"""Calls ringing one after another make one "Incoming call" toast that counts them, replaced each time,
not a stack of toasts over the composer (Pilot over a real workspace file)."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel

SIZE = (160, 50)


def ring_toasts(app: object) -> list[str]:
    """The incoming-call toasts showing now, read from the screen (Toast widgets), as the agent sees them."""
    shown = []
    for toast in app.screen.query("Toast"):  # type: ignore[attr-defined]
        text = " ".join(toast.render_line(y).text.strip() for y in range(toast.size.height))
        if "Incoming call" in text:
            shown.append(" ".join(text.replace("Incoming call", "", 1).split()))
    return shown


async def test_ringing_calls_make_one_toast_that_counts_them(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 1 and app.hub_ready, pilot=pilot)
        callers = [("Anna Müller", "Paket"), ("Bernd Schulz", "Rechnung"), ("Clara Weber", "Rückgabe")]
        for count, (name, subject) in enumerate(callers, start=2):
            seed(db, [Contact(Channel.PHONE, name, "de", subject, age=1)], now=time.time())
            await wait_for(lambda n=count: len(app.store.conversations) == n, pilot=pilot)  # type: ignore[misc]
        # On screen: one toast, replaced as calls come (the history in `said` has each version).
        await wait_for(lambda: any(r.startswith("☎ 3 calls") for r in ring_toasts(app)), pilot=pilot)
        await pilot.pause()  # one frame: the toasts of the first two calls would still be there
        rings = ring_toasts(app)
        assert len(rings) == 1, rings
        assert rings[0].startswith("☎ 3 calls ringing: Anna Müller (DE), Bernd Schulz (DE) and 1 more")
