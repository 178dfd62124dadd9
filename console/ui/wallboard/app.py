"""`standardiste supervise`: the wallboard (screen.py) alone, as its own Textual app, over a backend built
by `__main__` (for the local workspace: one that watches, and may act, without joining the routing pool).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from textual.screen import Screen

from ....backends.base import Backend, BackendStatus, Command, CsatRecorded, Event, LinkState, WrappedUp
from ....backends.optional import Records
from ...core.alerts import AlertConfig
from ...core.config import Config
from ...core.hub import Hub
from ...core.metrics import WEEK_SECONDS, local_day_start
from ...core.model import CsatRecord, WrapUpRecord
from ...core.routing import RoutingRules
from ...core.sla import SlaPolicy
from ...core.store import Store
from ..plain_ui import PlainNotify
from .screen import WallboardScreen


class WallboardApp(PlainNotify):
    """`standardiste supervise`: the wallboard alone over one backend."""

    TITLE = "standardiste wallboard"

    def __init__(
        self,
        backend: Backend,
        *,
        read_only: bool = True,
        policy: SlaPolicy | None = None,
        alerts: AlertConfig | None = None,
        routing: RoutingRules | None = None,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        bell: bool = True,
        theme: str | None = None,
        interval: float = 1.0,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.store = Store()
        self.backend = backend
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
        self._config = config  # its warnings are said at start, as the console says them
        self._loaded: set[CsatRecord | WrapUpRecord] = set()
        self._records_requested = False

    async def on_mount(self) -> None:
        from ....themes import THEMES

        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self._theme_name if self._theme_name in self.available_themes else THEMES[0].name
        if self._config is not None:
            from ..config_warnings import warn_about_config

            warn_about_config(self, self._config, logging.getLogger(__name__))
        await self.hub.start()
        self.run_worker(self._pump(), group="pump", exit_on_error=False)

    def get_default_screen(self) -> Screen[Any]:
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
                if isinstance(self.backend, Records):
                    self.run_worker(self._read_records(self.backend), group="records", exit_on_error=False)

    def _seen(self, event: Event) -> bool:
        return isinstance(event, CsatRecorded | WrappedUp) and event.record in self._loaded

    async def _read_records(self, backend: Records) -> None:
        now = self.clock()
        csat, wrapups = await backend.records(now - WEEK_SECONDS, min(local_day_start(now), now - 3600))
        self._merge(csat, wrapups)

    def _merge(self, csat: list[CsatRecord], wrapups: list[WrapUpRecord]) -> None:
        have_csat, have_wrapups = set(self.store.csat), set(self.store.wrapups)
        self._loaded = set(csat) | set(wrapups)
        self.store.load_records(
            [r for r in csat if r not in have_csat], [r for r in wrapups if r not in have_wrapups]
        )

    def _send(self, command: Command) -> None:
        self.run_worker(self._perform(command), group="commands", exit_on_error=False)

    async def _perform(self, command: Command) -> None:
        from ....backends.base import BackendError

        try:
            await self.hub.perform(command)
        except BackendError as error:
            self.notify(f"{command.kind.value.replace('_', ' ')}: {error}", severity="error", timeout=6)


def run_wallboard(
    backend: Backend, config: Config, settings: dict[str, Any], *, read_only: bool = True
) -> int:
    """`standardiste supervise [--act]`: run the wallboard app until the supervisor quits."""
    app = WallboardApp(
        backend,
        read_only=read_only,
        bell=config.bell,
        theme=config.theme,
        config=config,
        **settings,
    )
    app.run()
    from ...core.logfile import app_exit_status

    return app_exit_status(app, "the wallboard")  # a crash: non-zero, its traceback in the log file
