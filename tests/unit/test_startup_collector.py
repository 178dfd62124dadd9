"""The collector is held off from the console's start to its first frame, and only that long (issue 16).

The start builds the objects a session lives with (modules, classes, the workspace screen's widgets):
collected as they were built, they cost the first frame 25-30 ms. The hold must end, or a whole shift would
run without the cyclic collector; and it must not end a `long_lived` block held meanwhile by a snapshot.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from standardiste.console.core import collector


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    collector.end_startup()
    if enabled:
        gc.enable()


def test_the_start_holds_the_collector_off_until_it_ends() -> None:
    gc.enable()
    collector.begin_startup()
    assert not gc.isenabled()
    collector.begin_startup()  # a second start is the same start: one end releases it
    collector.end_startup()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what the start built is out of the collector's generations


def test_ending_a_start_never_begun_changes_nothing() -> None:
    gc.disable()
    collector.end_startup()
    assert not gc.isenabled()
    gc.enable()
    collector.end_startup()
    assert gc.isenabled()


def test_a_snapshot_held_over_the_end_of_the_start_keeps_its_hold() -> None:
    gc.enable()
    collector.begin_startup()
    with collector.long_lived():
        collector.end_startup()
        assert not gc.isenabled()  # the snapshot's rows are still being built
    assert gc.isenabled()
