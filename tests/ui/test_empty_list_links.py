"""An empty queue while a backend is not read yet says so: never "Nothing waiting for you" before the
workspace is open (an index rebuilt after an upgrade, a server that is down), then the usual message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from app_harness import make_app, seed, wait_for
from standardiste.backends.base import Unavailable
from standardiste.backends.local import LocalBackend
from standardiste.backends.local.search import REBUILDING
from standardiste.console.ui.empty_list import empty_list_message
from standardiste.widgets.status_bar import StatusBar
from textual.widgets import Static


class SlowToOpen(LocalBackend):
    """The local workspace, opened only when the test says (as a file rebuilding its search index)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, agent_id="alice")
        self.go = asyncio.Event()

    async def connect(self) -> None:
        await self.go.wait()
        await super().connect()


class Rebuilding(SlowToOpen):
    """Says, from its opening thread, that it rebuilds its search index, and waits."""

    async def connect(self) -> None:
        await asyncio.to_thread(self._connect_progress, REBUILDING)
        await super().connect()


class Unreachable(LocalBackend):
    async def connect(self) -> None:
        raise Unavailable("the server does not answer")


def shown(app: object) -> str:
    return str(app.workspace.query_one("#empty", Static).render().plain)  # type: ignore[attr-defined]


async def test_an_empty_list_says_the_workspace_is_still_connecting(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db", [])  # an empty workspace: once open, nothing is waiting indeed
    backend = SlowToOpen(tmp_path / "workspace.db")
    app = make_app(tmp_path, backend=backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: "local" in app.store.links, pilot=pilot)
        await pilot.pause()
        assert "Nothing to show yet: local is connecting" in shown(app)
        assert "Nothing waiting" not in shown(app)
        backend.go.set()
        await wait_for(lambda: "Nothing waiting for you" in shown(app), pilot=pilot)


async def test_a_long_open_says_why_in_the_list_and_the_status_line(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    backend = Rebuilding(tmp_path / "workspace.db")
    app = make_app(tmp_path, backend=backend)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(lambda: REBUILDING in shown(app), pilot=pilot)
        assert f"local is connecting ({REBUILDING})" in shown(app)
        status = str(app.workspace.query_one(StatusBar).render().plain)  # type: ignore[union-attr]
        assert "local: connecting: rebuilding the search index" in status
        backend.go.set()
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        await wait_for(lambda: "connecting" not in str(app.workspace.query_one(StatusBar).render().plain), pilot=pilot)  # type: ignore[union-attr]  # fmt: skip


async def test_an_empty_list_names_a_backend_that_cannot_be_reached(tmp_path: Path) -> None:
    app = make_app(tmp_path, backend=Unreachable(tmp_path / "workspace.db", agent_id="alice"))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: "cannot be reached" in shown(app), pilot=pilot)
        text = shown(app)
        assert "local cannot be reached: the server does not answer (retrying in" in text
        assert "Nothing waiting" not in text


def test_a_filter_and_the_snoozed_view_name_what_is_not_in_yet() -> None:
    from standardiste.backends.base import BackendStatus, LinkState

    links = {
        "local": BackendStatus("local", LinkState.CONNECTED),
        "zendesk": BackendStatus("zendesk", LinkState.DOWN, "timed out", retry_in=8.0),
    }
    assert "Not searched: zendesk cannot be reached: timed out (retrying in 8s)" in empty_list_message(
        "all", "refund", [], links
    )
    assert "Not in yet: zendesk" in empty_list_message("snoozed", "", [], links)
    # One backend read and empty, another not in: nothing to show, but not "yet" for all of them.
    assert empty_list_message("all", "", [], links).startswith("Nothing to show: zendesk cannot be reached")
    assert empty_list_message("all", "", [], {"local": links["local"]}).startswith("Nothing waiting for you")
    assert empty_list_message("all", "", [], {}).startswith("Nothing to show yet: connecting")


def test_a_word_after_the_console_quit_is_dropped_quietly(tmp_path: Path) -> None:
    import gc
    import warnings

    from standardiste.console.core.hub import Hub

    async def made() -> tuple[Hub, Callable[[str], None]]:
        hub = Hub([LocalBackend(tmp_path / "workspace.db", agent_id="alice")])
        return hub, hub._progress_of("local")

    loop = asyncio.new_event_loop()
    hub, said = loop.run_until_complete(made())
    said("rebuilding\x1b[2J the index")  # as from the backend's thread: queued, its text sanitised
    loop.run_until_complete(asyncio.sleep(0.01))
    [status] = hub.queue.get_nowait()
    assert status.detail == "rebuilding the index"
    loop.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        said("still rebuilding")  # the console has quit: no error in the opening thread, nothing left over
        gc.collect()
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


class HostileServer(LocalBackend):
    """A server whose refusal carries terminal escapes and markup (its error text reaches the screen)."""

    async def connect(self) -> None:
        raise Unavailable(
            "refused \x1b]52;c;ZXZpbA==\x07 [link=https://evil.example]here[/link] \x1b[2J\u202eok"
        )


async def test_a_backends_error_text_is_drawn_as_plain_safe_text(tmp_path: Path) -> None:
    from app_harness import drawn_lines
    from hostile_text import screen_problems

    app = make_app(tmp_path, backend=HostileServer(tmp_path / "workspace.db", agent_id="alice"))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(lambda: "cannot be reached" in shown(app), pilot=pilot)
        await pilot.pause()
        assert screen_problems(drawn_lines(app.screen)) == []
        assert "[link=https://evil.example]here[/link]" in shown(app)  # the words, as words: not a link
        assert "\x1b" not in shown(app) and "\u202e" not in shown(app)
        assert "\x1b" not in app.store.links["local"].detail  # clean in the store, for every reader
