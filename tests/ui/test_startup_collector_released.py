"""The console's first frame gives the collector back (console/core/collector.py, issue 16)."""

from __future__ import annotations

import gc
from pathlib import Path

from app_harness import T0, make_app, seed, wait_for
from standardiste.console.core import collector


async def test_the_first_frame_ends_the_collector_hold_of_the_start(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    gc.enable()
    collector.begin_startup()  # as `standardiste` does before its imports
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(gc.isenabled, pilot=pilot)
            await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
            assert gc.isenabled()
    finally:
        collector.end_startup()
        gc.enable()
