"""`standardiste supervise`: the wallboard (wallboard.py) alone, as its own Textual app, over a local
workspace file, through a backend that watches (and may act) without joining the routing pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from textual.screen import Screen

from ..backends.base import BackendStatus, Command, CsatRecorded, Event, LinkState, WrappedUp
from ..backends.local import LocalBackend
from .alerts import AlertConfig
from .config import Config
from .hub import Hub
from .metrics import WEEK_SECONDS, local_day_start
from .model import CsatRecord, WrapUpRecord
from .plain_ui import PlainNotify
from .routing import RoutingRules
from .sla import SlaPolicy
from .store import Store
from .wallboard_json import _prepare


def SupervisorBackend(path: str | Path, **kwargs: Any) -> LocalBackend:
    """The local workspace seen by a supervisor: it watches (and may act) without joining the routing pool."""
    return LocalBackend(path, register=False, **kwargs)


class WallboardApp(PlainNotify):
    """`standardiste supervise`: the wallboard alone over a local workspace file."""

    TITLE = "standardiste wallboard"

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = True,
        agent_id: str | None = None,
        policy: SlaPolicy | None = None,
        alerts: AlertConfig | None = None,
        routing: RoutingRules | None = None,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        bell: bool = True,
        theme: str | None = None,
        interval: float = 1.0,
        poll_interval: float = 0.2,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.clock = clock
        self.store = Store()
        self.backend = SupervisorBackend(self.path, agent_id=agent_id, poll_interval=poll_interval)
        self.hub = Hub([self.backend])
        self.read_only = read_only
        self._screen_options: dict[str, Any] = {
            "policy": policy,
            "alerts": alerts,
            "routing": routing,
            "tz": tz,
            "bell": bell,
            "interval": interval,
        }
        self._theme_name = theme
        self._loaded: set[CsatRecord | WrapUpRecord] = set()
        self._records_requested = False

    async def on_mount(self) -> None:
        from ..themes import THEMES

        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self._theme_name if self._theme_name in self.available_themes else THEMES[0].name
        await self.hub.start()
        self.run_worker(self._pump(), group="pump", exit_on_error=False)

    def get_default_screen(self) -> Screen[Any]:
        from .wallboard import WallboardScreen  # here, not above: wallboard.py re-exports this module

        # The board is the app's only screen, so closing it quits.
        return WallboardScreen(
            self.store,
            now=self.clock,
            read_only=self.read_only,
            on_command=self._send,
            supports=self.hub.supports,
            **self._screen_options,
        )

    async def on_unmount(self) -> None:
        await self.hub.close()

    async def _pump(self) -> None:
        while True:
            first = await self.hub.queue.get()
            events = [e for e in [*first, *self.hub.drain()] if not self._seen(e)]
            self.store.apply(events, self.clock())
            connected = any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in events)
            if connected and not self._records_requested:
                # After the snapshot: a record is then either read here or arrives as an event (or both,
                # which `_seen` and `_merge` sort out), never neither.
                self._records_requested = True
                self.run_worker(self._read_records, thread=True, group="records", exit_on_error=False)

    def _seen(self, event: Event) -> bool:
        return isinstance(event, CsatRecorded | WrappedUp) and event.record in self._loaded

    def _read_records(self) -> None:
        from ..backends.local import Workspace

        now = self.clock()
        ws = Workspace(self.path)
        try:
            csat = ws.csat(since=now - WEEK_SECONDS)
            wrapups = ws.wrapups(since=min(local_day_start(now), now - 3600))
        finally:
            ws.close()
        self.call_from_thread(self._merge, csat, wrapups)

    def _merge(self, csat: list[CsatRecord], wrapups: list[WrapUpRecord]) -> None:
        have_csat, have_wrapups = set(self.store.csat), set(self.store.wrapups)
        self._loaded = set(csat) | set(wrapups)
        self.store.load_records(
            [r for r in csat if r not in have_csat], [r for r in wrapups if r not in have_wrapups]
        )

    def _send(self, command: Command) -> None:
        self.run_worker(self._perform(command), group="commands", exit_on_error=False)

    async def _perform(self, command: Command) -> None:
        from ..backends.base import BackendError

        try:
            await self.hub.perform(command)
        except BackendError as error:
            self.notify(f"{command.kind.value.replace('_', ' ')}: {error}", severity="error", timeout=6)


def run_wallboard(path: str | Path, *, read_only: bool = True, config: Config | None = None) -> int:
    """`standardiste supervise [--act]`: run the wallboard app until the supervisor quits."""
    prepared = _prepare(path, config)
    if prepared is None:
        return 2
    config, settings = prepared
    app = WallboardApp(
        path,
        read_only=read_only,
        agent_id=config.agent_id,
        bell=config.bell,
        theme=config.theme,
        **settings,
    )
    app.run()
    from .logfile import app_exit_status

    return app_exit_status(app, "the wallboard")  # a crash: non-zero, its traceback in the log file
