"""`standardiste supervise`: the wallboard (screen.py) alone, as its own Textual app, over a backend built
by `__main__` (for the local workspace: one that watches, and may act, without joining the routing pool).

The board reads the backend's records (the optional `Records`) once it is connected and every minute after,
as it does when opened over the console (records.py); here what it reads also goes into the app's store,
each record once whether it was read, came as an event, or both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from datetime import tzinfo
from typing import Any

from textual.screen import Screen

from ....backends.base import Backend, Command, CsatRecorded, Event, WrappedUp
from ...core.alerts import AlertConfig
from ...core.config import Config
from ...core.hub import Hub, RecordsRead
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
        self.hub = Hub([self.backend], heads=False)  # its counts are of the whole queue
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
        # What the last read of each backend's records gave: its events for them are not applied again.
        self._loaded: dict[str, set[CsatRecord | WrapUpRecord]] = {}

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
            records=self._read_records,
            **self._screen_options,
        )

    async def on_unmount(self) -> None:
        await self.hub.close()

    async def _pump(self) -> None:
        while True:
            first = await self.hub.queue.get()
            events = [e for e in [*first, *self.hub.drain()] if not self._seen(e)]
            self.store.apply(events, self.clock())

    def _seen(self, event: Event) -> bool:
        return isinstance(event, CsatRecorded | WrappedUp) and any(
            event.record in loaded for loaded in self._loaded.values()
        )

    async def _read_records(self, csat_since: float, wrapups_since: float, names: Collection[str]) -> RecordsRead:
        """The screen's reading (it asks once the backend is connected, so after its snapshot: a record is
        then read, or arrives as an event, or both, never neither), also kept in the store."""
        answer = await self.hub.records(csat_since, wrapups_since, names)
        for name, (csat, wrapups) in answer.records.items():
            self._merge(name, csat, wrapups)
        return answer

    def _merge(self, backend: str, csat: list[CsatRecord], wrapups: list[WrapUpRecord]) -> None:
        # Known by conversation and time, as the store keeps a snapshot's records: a read that finds again
        # what an event brought, or what the last read loaded, adds nothing.
        have_csat = {(r.conversation_id, r.at) for r in self.store.csat}
        have_wrapups = {(r.conversation_id, r.at) for r in self.store.wrapups}
        self._loaded[backend] = set(csat) | set(wrapups)
        self.store.load_records(
            [r for r in csat if (r.conversation_id, r.at) not in have_csat],
            [r for r in wrapups if (r.conversation_id, r.at) not in have_wrapups],
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
