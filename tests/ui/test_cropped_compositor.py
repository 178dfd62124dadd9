"""The workspace's compositor writes to the terminal exactly what Textual's would, for any partial update.

It renders only the lines of each widget inside an update's bounding box (widgets/cropped_compositor.py);
here both render the same random updates of the real workspace, its detail pane open, at two sizes, and
their terminal output is compared byte for byte. A change in Textual's private contract fails here.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for
from standardiste.widgets.cropped_compositor import CroppedCompositor
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region


def _terminal_output(compositor: Compositor, chops_of: object, regions: list[Region], console: object) -> str:
    screen = compositor.size.region
    crop = Region.from_union(regions).intersection(screen)
    spans = list(compositor._regions_to_spans(regions))
    rendered = {y for y, _, _ in spans}.__contains__
    chops = chops_of(compositor, crop, rendered)  # type: ignore[operator]
    return ChopsUpdate(chops, spans, [cuts[1:] for cuts in compositor.cuts]).render_segments(console)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_random_updates_reach_the_terminal_as_textual_would_send_them(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await pilot.press("j", "enter")  # a conversation open: the detail pane, its header, the transcript
        await wait_for(lambda: app.workspace.open_id is not None, pilot=pilot)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        compositor = app.workspace._compositor
        assert isinstance(compositor, CroppedCompositor)
        width, height = size
        rng = random.Random(16)
        compared = 0
        for _ in range(300):
            regions = []
            for _ in range(rng.randint(1, 4)):
                x, y = rng.randrange(width), rng.randrange(height)
                regions.append(Region(x, y, rng.randint(1, width - x), rng.randint(1, height - y)))
            ours = _terminal_output(compositor, CroppedCompositor._render_chops, regions, app.console)
            textuals = _terminal_output(compositor, Compositor._render_chops, regions, app.console)
            assert ours == textuals, regions
            compared += bool(ours)
        assert compared == 300  # every update drew something: the comparison is not of empty strings
