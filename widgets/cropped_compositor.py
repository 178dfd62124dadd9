"""A compositor that renders, for a partial update, only the lines of each widget that the update covers.

Textual's compositor renders every line of every widget whose clip touches the update (at 160×45, moving
the cursor one row through the queue went through 216 lines of ten widgets, the whole screen, to send two
rows): about 1 ms of the 4 ms between a key and its frame, and the same on every row a flood repaints.
Here each widget is asked for the lines inside the update's bounding box only, which its styles cache
serves as before. What reaches the terminal is the same: the update writes only the dirty spans, and the
chops of the lines and columns left out are never among them (tests/ui/test_cropped_compositor.py compares
the two on random updates).

It overrides one private method of Textual's `Compositor` (`_render_chops`, Textual 8); the test above fails
if its contract changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


class CroppedCompositor(Compositor):
    def _render_chops(
        self,
        crop: Region,
        is_rendered_line: Callable[[int], bool],
    ) -> Sequence[Mapping[int, Strip]]:
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        crop_top, crop_bottom = crop.y, crop.bottom
        crop_left, crop_right = crop.x, crop.right
        # Front to back: the first strip to fill a cut wins, as in Textual's own.
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            top, bottom = max(y, crop_top), min(y + height, crop_bottom)
            if top >= bottom or x >= crop_right or x + width <= crop_left or not width:
                continue
            strips = widget.render_lines(Region(x - region.x, top - region.y, width, bottom - top))
            first_cut, last_cut = x, x + width
            for line_y, strip in zip(range(top, bottom), strips, strict=False):
                if not is_rendered_line(line_y):
                    continue
                chops_line = chops[line_y]
                final_cuts = [cut for cut in cuts[line_y] if last_cut >= cut >= first_cut]
                get_chop = chops_line.get
                for cut, piece in zip(
                    final_cuts, strip.divide([cut - x for cut in final_cuts[1:]]), strict=False
                ):
                    if get_chop(cut) is None:
                        chops_line[cut] = piece
        return cast("Sequence[Mapping[int, Strip]]", chops)
