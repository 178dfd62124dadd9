"""The Textual application: owns the store, the hub and the outbox, and pumps events to the screen.

Events from the backends are drained in batches at most 30 times a second (never one message per event),
applied to the store, and handed to the active screen as one `Changes`. Clocks tick once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ...backends.base import (
    Backend,
    BackendError,
    Command,
    CommandKind,
    CommandResult,
    ConversationUpserted,
    SetPresence,
    SnapshotLoaded,
)
from ...themes import SHORT_NAMES, THEMES
from ..core.collector import end_startup
from ..core.config import Config, save_setting
from ..core.draft_keeper import DraftKeeper
from ..core.hub import Hub
from ..core.model import Channel, Conversation, Presence, State
from ..core.presence import idle_change, input_change
from ..core.routing import Load, channel_refusal
from ..core.snapshot_prep import is_big_snapshot, prepare, slices
from ..core.storage import StorageTrouble
from ..core.store import Store
from ..core.views import VIEW_SCOPES
from .actions import ACTIONS
from .external_editor import EditorFailed, edit_in_editor
from .host import StoreListener, Ticking
from .key_order import KeyOrder, OrderedKey
from .plain_ui import PlainNotify
from .pump_stats import PumpStats
from .quit_flow import QuitFlow
from .workspace_screen import WorkspaceScreen

if TYPE_CHECKING:
    from textual.driver import Driver

    from ..core.outbox import Outbox, OutboxEntry

FRAME = 1 / 30
# How often drafts that a full disk kept in memory are tried again.
DRAFTS_RETRY_SECONDS = 3.0
# Events applied between two yields to the event loop (a few ms of work at most).
SLICE = 200


class StandardisteApp(PlainNotify):
    TITLE = "standardiste"
    # ctrl+c as well: Textual 8 binds it to a "press ctrl+q" hint (`help_quit`). A text field with focus
    # keeps it for copying (its binding comes first); everywhere else it is ctrl+q. One id: remapped together.
    BINDINGS = [Binding("ctrl+q,ctrl+c", "quit", "Quit", id="app.quit", show=False)]
    ENABLE_COMMAND_PALETTE = True
    CSS_PATH = "../../themes/toasts.tcss"  # off the composer while it is open

    def __init__(
        self,
        config: Config,
        backends: list[Backend],
        *,
        clock: Callable[[], float] = time.time,
        outbox_path: Path | None = None,
        drafts_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self._theme_before_first_parse()
        self.clock = clock
        self.store = Store()
        self.hub = Hub(backends)
        self.hub_ready = False
        self.me = config.agent_id
        self.outbox_path = outbox_path
        self.drafts_path = drafts_path
        self._drafts: Any = None
        self._pump_task: asyncio.Task[None] | None = None
        self.outbox: Outbox | None = None
        self._undoable: list[tuple[int, str]] = []
        self._quitting = QuitFlow(self)
        # Writes failing for their storage (a full disk): said in the status line, retried, never a crash.
        self.storage = StorageTrouble()
        self._done_texts: dict[int, str] = {}
        self._draft_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drafts")
        self.draft_keeper = DraftKeeper(self._draft_trouble)
        self.stats = PumpStats()
        self._last_input = time.time()
        self._idle_away = False
        self._macros: Any = None
        self.push_offers: Any = None
        self.workspace = WorkspaceScreen()
        # Keys typed ahead wait for the one before them (see key_order.py).
        self._key_order = KeyOrder(self, super().on_event)

    # ------------------------------------------------------------------------------------------ start & stop

    def _theme_before_first_parse(self) -> None:
        """The config's theme, in place before the stylesheet is first parsed: set once mounted, as a
        change of theme, it parsed the CSS again and restyled every widget (9 ms of parsing alone, before
        the first frame)."""
        for theme in THEMES:
            self.register_theme(theme)
        name = self.config.theme if self.config.theme in self.available_themes else THEMES[0].name
        self.set_reactive(App.theme, name)  # no watcher: nothing is styled yet
        self.stylesheet.set_variables(self.get_css_variables())
        dark = self.current_theme.dark
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    async def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
        # A head read before the console asked (the workspace file's reader process): in the first frame.
        ready = self.hub.ready_heads()
        if ready:
            self.store.apply(ready, self.clock())
        await self.push_screen(self.workspace)
        self.call_after_refresh(end_startup)  # the collector, held off since the start (collector.py)
        # Paint first, then check the config and connect: the agent sees the console at once, and the
        # warnings and the data arrive into it.
        self.call_after_refresh(self._warn_about_config)
        self.call_after_refresh(self._start_backends)

    def _warn_about_config(self) -> None:
        """Keys, a theme or binding ids of the config that nothing uses: said at start and logged, not ignored."""
        from .config_warnings import warn_about_config

        warn_about_config(self, self.config, logging.getLogger(__name__))

    async def _start_backends(self) -> None:
        await self.draft_keeper.open(self.drafts_path)
        self._drafts = self.draft_keeper.drafts
        self._use_presence_timing()
        await self.hub.start()
        if self.outbox_path is not None:
            from ..core.outbox import Outbox

            self.outbox = Outbox(
                self.outbox_path,
                self.hub.perform,
                where=self.workspace_of,
                on_outcome=self._outcome,
                on_change=self._outbox_changed,
                # One outbox per agent: each workspace is delivered by the first of her consoles to open
                # it; the others journal into it and take over when that one ends (outbox.py).
                serving=lambda: {b.workspace_id for b in self.hub.backends.values() if b.workspace_id},
            )
            await self.outbox.start()
        if self.outbox is not None:
            # A console killed after journalling a reply and before removing its draft: not offered again.
            with contextlib.suppress(Exception):
                await self.draft_keeper.reconcile(self.outbox.journalled)
        self.hub_ready = True
        if self.config.push:
            from ...backends.optional import Offers
            from .push_offers import PushOffers

            offers = next((b for b in self.hub.backends.values() if isinstance(b, Offers)), None)
            if offers is None:
                self.notify(
                    "Push mode needs a backend that makes offers: press n to take work.", severity="warning"
                )
            else:
                from ...widgets.offer_banner import OfferBanner

                banner = self.workspace.query_one(OfferBanner)
                self.push_offers = PushOffers(self, offers, banner, self.workspace.show_taken)
        self._pump_task = asyncio.create_task(self._pump(), name="event-pump")
        self.set_interval(1.0, self._tick, name="clock")
        self.set_interval(5.0, self._check_idle, name="idle")
        self.set_interval(DRAFTS_RETRY_SECONDS, self._write_unwritten_drafts, name="drafts-retry")
        self.set_interval(1.0, self._leave_if_the_terminal_is_gone, name="terminal")

    def _leave_if_the_terminal_is_gone(self) -> None:
        from .terminal_watch import TERMINAL_GONE_EXIT, terminal_gone

        if terminal_gone(self._driver):
            logging.getLogger(__name__).warning("the terminal is gone: signing off and leaving")
            self.exit(return_code=TERMINAL_GONE_EXIT)

    def _use_presence_timing(self) -> None:
        """The heartbeat of this console on shared workspace files, from `[presence]` (docs/routing.md)."""
        from ...backends.optional import Sessions

        for backend in self.hub.backends.values():
            if isinstance(backend, Sessions):
                backend.heartbeat = self.config.presence.heartbeat
                backend.gone_after = self.config.presence.gone_after
                backend.on_write_trouble = self._workspace_write_trouble

    async def on_unmount(self) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()
        if self.outbox is not None:
            await self.outbox.close()
        from ...backends.optional import Sessions

        for backend in self.hub.backends.values():
            if isinstance(backend, Sessions):
                await backend.sign_off()  # quitting: offline and no "viewing" left on the others' screens
        await self.hub.close()
        self._draft_writer.shutdown(wait=True)
        self.draft_keeper.close()
        self.stats.write_if_asked()

    async def _pump(self) -> None:
        """Drain the hub's queue: one repaint per frame at most, whatever the flood.

        A flood is applied in slices with a yield to the event loop between them, so that a key pressed
        meanwhile is answered within a slice, not after the whole batch.
        """
        queue = self.hub.queue
        last = 0.0
        while True:
            first = await queue.get()
            wait = last + FRAME - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            events = list(first) + self.hub.drain()
            last = time.monotonic()
            chunks = list(slices(events, SLICE))  # a big snapshot in a slice of its own (snapshot_prep.py)
            for number, chunk in enumerate(chunks, 1):
                prepared = None
                if (
                    len(chunk) == 1
                    and isinstance(event := chunk[0], SnapshotLoaded)
                    and is_big_snapshot(event)
                ):
                    # Merged and sorted in a thread, while the loop answers keys; installed in one step.
                    prepared = await asyncio.to_thread(prepare, self.store, event)
                started = time.perf_counter()
                changes = self.store.install(prepared) if prepared is not None else None
                if changes is None:
                    changes = self.store.apply(chunk, self.clock())
                if changes:
                    self._announce(changes.new_conversations)
                    self.workspace.apply_changes(changes, draw=False)
                    for screen in self.screen_stack:
                        if isinstance(screen, StoreListener) and screen is not self.workspace:
                            screen.store_changed(changes)
                self.stats.record(len(chunk), time.perf_counter() - started)
                if number < len(chunks):
                    await asyncio.sleep(0)
            self.workspace.draw()

    def _announce(self, new_ids: Iterable[str]) -> None:
        """A new ringing call this agent could answer rings the bell and says who is calling.

        Not a German call for an agent who speaks no German, nor anything while away: a ring means "you"."""
        me = self.store.agents.get(self.me)
        if not self.hub_ready or me is None or me.presence is not Presence.AVAILABLE:
            return
        may_answer: bool | None = None  # counted once, and only when a call is ringing
        for cid in new_ids:
            conversation = self.store.conversations.get(cid)
            if (
                conversation is not None
                and conversation.channel is Channel.PHONE
                and conversation.state is State.RINGING
                and conversation.assignee in (None, self.me)
                and conversation.created_at > self.clock() - 5
                and me.skills.covers(Channel.PHONE, conversation.language)
            ):
                if may_answer is None:
                    # Not while on a call or wrapping one up: the same rule as routing (`blocks`, wrap-up).
                    # Calls still ringing are not in hand yet (one transferred to me must ring).
                    in_hand = (c for c in self.store.conversations.values() if c.state is not State.RINGING)
                    load = Load.of(in_hand, self.me)
                    may_answer = channel_refusal(me, Channel.PHONE, load, self.config.routing) is None
                if not may_answer:
                    return
                if self.config.bell:
                    self.bell()
                from .ring_toast import ringing_for, show_ring

                # One toast for every call ringing for me, replacing the last one (they stacked up).
                show_ring(self, ringing_for(self.store.conversations.values(), me))
                return

    async def on_event(self, event: events.Event) -> None:
        # Every key or click is input, whichever widget takes it: the idle rule needs to know.
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.time()
            if self._idle_away:
                self._idle_away = False
                self._presence_change(input_change)
        if isinstance(event, events.Key) and not event.is_forwarded and not isinstance(event, OrderedKey):
            await self._key_order.arrived(self._key_order.wrap(event))
            return
        if isinstance(event, events.Paste) and not event.is_forwarded:
            await self._key_order.pasted(event)
            return
        await super().on_event(event)

    def hold_keys(self) -> Callable[[], None]:
        """Keys typed from now on wait until the returned function is called (key_order.py)."""
        return self._key_order.hold()

    def get_driver_class(self) -> type[Driver]:
        from .terminal_keys import install

        install()  # alt+N and alt+enter sent as ESC + key (xterm, tmux, SSH) read as such
        return super().get_driver_class()

    def on_key(self, event: events.Key) -> None:
        # Runs before Textual's App._on_key checks the bindings: the next key goes once that is done.
        if isinstance(event, OrderedKey):
            if self._key_order.stale_screen(event):
                event.prevent_default()  # a modal consumes its keys, even one that closed it
            self.call_next(self._key_order.done, event)

    def _check_idle(self) -> None:
        me = self.store.agents.get(self.me)
        idle_after = self.config.presence.idle_away
        if (
            me is None
            or me.presence is not Presence.AVAILABLE
            or idle_after is None
            or time.time() - self._last_input < idle_after
        ):
            return  # the common case, decided without counting the agent's work in 100k rows
        if not self._idle_away and self._presence_change(idle_change, self._last_input, time.time()):
            self._idle_away = True

    def _presence_change(self, rule: Callable[..., Any], *args: Any) -> bool:
        me = self.store.agents.get(self.me)
        if me is None or not self.hub_ready:
            return False
        if rule is idle_change:
            load = Load.of(self.store.conversations.values(), self.me)
            change = idle_change(me, load, *args, self.config.presence, self.config.routing)
        else:
            change = input_change(me, self.config.presence)
        if change is None:
            return False
        self.send(
            SetPresence(presence=change.presence, reason=change.reason),
            done=f"You are {change.presence.value} {change.reason}".strip(),
        )
        return True

    def _tick(self) -> None:
        self.workspace.tick()
        me = self.store.agents.get(self.me)
        if self.push_offers is not None and me is not None and me.presence is Presence.AVAILABLE:
            self.run_worker(self.push_offers.poll(), group="offer-poll", exclusive=True)
        for screen in self.screen_stack:
            if isinstance(screen, Ticking) and screen is not self.workspace:
                screen.tick()

    # ------------------------------------------------------------------------------------------ commands

    def take_in(self, conversation: Conversation) -> None:
        """A conversation found by search that the store does not hold (closed long ago): into the store and
        the views now, as an event from its backend would bring it, so that it can be opened."""
        changes = self.store.apply([ConversationUpserted(conversation)], self.clock())
        if changes:
            self.workspace.apply_changes(changes)

    def send(self, command: Command, *, undo: bool = False, done: str = "") -> None:
        """Send a command through the outbox (journalled first); with `undo`, hold it `undo_seconds` first."""
        delay = self.config.undo_seconds if undo else 0.0
        # Tones are sent now or never: a PIN is not written to the outbox's file, and a phone menu that moved
        # on must not hear them again later.
        if self.outbox is None or command.kind in (
            CommandKind.TYPING,
            CommandKind.VIEWING,
            CommandKind.SEND_DTMF,
        ):
            self.run_worker(self._perform(command, done), group="commands")
            return
        self.run_worker(self._submit(command, delay, done), group="commands")

    def workspace_of(self, command: Command) -> str:
        """The identity of the workspace `command` would reach now ("" if none): the outbox's `where`.

        A command without a conversation (presence) goes to every capable backend: its identity is all of
        theirs, so it is delivered only while that same set of workspaces is open."""
        if command.conversation_id:
            name = command.conversation_id.partition(":")[0]
            backend = self.hub.backends.get(name)
            return backend.workspace_id if backend is not None else ""
        found = {
            b.workspace_id
            for b in self.hub.backends.values()
            if b.capabilities.supports(command.kind) and b.workspace_id
        }
        return "\n".join(sorted(found))

    def send_composed(
        self, conversation_id: str, outgoing: Any, command: Command, *, undo: bool, done: str
    ) -> None:
        """A reply or note from the composer: its draft saved as it is now, then journalled, and only then
        the draft removed (draft_keeper.py says why). If it cannot be journalled the draft stays, and the
        agent is told."""
        self.run_worker(self._send_composed(conversation_id, outgoing, command, undo, done), group="commands")

    async def _send_composed(
        self, conversation_id: str, outgoing: Any, command: Command, undo: bool, done: str
    ) -> None:
        from ..core.draft_keeper import Saved

        saved = await self.draft_keeper.save_now(conversation_id, outgoing, command.key)
        if saved is Saved.SENT_ALREADY:
            return  # sent from the other console of this agent: the text is a new draft now, and said
        kept = saved is Saved.YES
        if self.outbox is None:
            if await self._perform(command, done) is not None:
                await self.draft_keeper.sent(conversation_id, command.key)
            return
        delay = self.config.undo_seconds if undo else 0.0
        if await self._submit(command, delay, done, kept_as_draft=kept):
            await self.draft_keeper.sent(conversation_id, command.key)

    async def _submit(
        self, command: Command, delay: float, done: str, *, kept_as_draft: bool = False
    ) -> bool:
        assert self.outbox is not None
        try:
            entry_id = await self.outbox.submit(command, delay=delay)
        except Exception as error:  # the journal itself failed (disk full, codec): say so, send nothing
            self.storage.report("outbox", error)  # a full disk stays in the status line until a send works
            kept = " Your text is kept as a draft: r continues it." if kept_as_draft else ""
            self.notify(f"Not sent, could not journal it: {error}.{kept}", severity="error", timeout=10)
            return False
        self.storage.clear("outbox")
        self._done_texts[entry_id] = done
        if delay > 0:
            from ..core.command_words import command_words

            # The undo toast says what was undone in words ("marking Anna Müller's email solved").
            words = command_words(command, self.store.conversations.get(command.conversation_id))
            self._undoable.append((entry_id, words))
            self.notify(f"{done or words} in {delay:.0f}s — ctrl+z to undo", timeout=min(delay, 5))
        return True

    def _outcome(self, entry: OutboxEntry, outcome: CommandResult | BaseException) -> None:
        from ..core.outbox import describe_error

        done = self._done_texts.pop(entry.id, "")
        if isinstance(outcome, BaseException):
            what = entry.kind.value.replace("_", " ")
            self.notify(
                f"{what} failed: {describe_error(outcome)} (kept in the outbox)", severity="error", timeout=8
            )
        elif done:
            self.notify(done, timeout=2)

    # ------------------------------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        """Quit at once when nothing is cut off; else ask, saying what (quit_flow.py)."""
        await self._quitting.ask()

    def undo_last(self) -> None:
        self.run_worker(self._undo_last(), group="undo")

    async def _undo_last(self) -> None:
        # `withdraw`, not an in-memory cancel: it is right in a console that does not deliver too (the
        # journal decides, against the attempt that the delivering console may be starting).
        while self._undoable:
            entry_id, what = self._undoable.pop()
            if self.outbox is not None and await self.outbox.withdraw(entry_id, held_only=True):
                self._done_texts.pop(entry_id, None)
                self.notify(f"Undone: {what}")
                return
        self.notify("Nothing to undo.")

    def _workspace_write_trouble(self, error: BaseException | None) -> None:
        """The workspace file cannot be written (None: it can again). Said once, then in the status line."""
        if error is None:
            self.storage.clear("workspace")
        elif not self.storage.has("workspace") and self.storage.report("workspace", error):
            self.notify(
                f"The workspace file cannot be written ({error}). The console carries on; what you type "
                "is kept and saved when space returns.",
                severity="error",
                timeout=10,
            )

    async def _perform(self, command: Command, done: str) -> CommandResult | None:
        try:
            result = await self.hub.perform(command)
        except BackendError as error:
            if command.kind in (CommandKind.TYPING, CommandKind.VIEWING) and self.storage.has("workspace"):
                return None  # a mark that could not be written: the status line says so, no toast per key
            self.notify(f"{command.kind.value.replace('_', ' ')}: {error}", severity="error", timeout=6)
            return None
        if done:
            self.notify(done, timeout=2)
        return result

    # ------------------------------------------------------------------------------------------ drafts

    async def take_back_for_editing(self, entry: OutboxEntry) -> bool:
        """An unsent reply back into its composer (from the outbox view), if it is still unsent."""
        return await self.workspace.take_back_for_editing(entry)

    def load_draft(self, conversation_id: str) -> Any:
        return self.draft_keeper.load(conversation_id)

    def save_draft(self, conversation_id: str, outgoing: Any) -> None:
        self.draft_keeper.save_later(conversation_id, outgoing)

    def discard_draft(self, conversation_id: str) -> None:
        self.draft_keeper.discard_later(conversation_id)

    def _draft_trouble(self, text: str) -> None:
        drafts = self.draft_keeper.drafts
        if drafts is not None and len(drafts.unwritten):
            # A full disk: the draft is kept in memory and written when space returns. Said once, then the
            # status line says it (not a toast per debounced save while the agent types on).
            first = not self.storage.has("drafts")
            self.storage.note("drafts", drafts.unwritten.problem)
            if not first:
                return
            text = f"{text}. Your text is kept here and saved as soon as there is space."
        self.notify(text, severity="error", timeout=10)

    async def _write_unwritten_drafts(self) -> None:
        """What a full disk kept in memory is written once space returns (tried every few seconds)."""
        drafts = self.draft_keeper.drafts
        if drafts is None or not len(drafts.unwritten):
            return
        # Any thread will do: `flush` holds the drafts' lock throughout (drafts.py).
        if await asyncio.to_thread(drafts.flush) == 0 and self.storage.has("drafts"):
            self.storage.clear("drafts")
            self.notify("There is space again: your drafts are saved.", timeout=4)

    def edit_externally(self, text: str) -> str | None:
        try:
            return edit_in_editor(text, self.suspend)
        except EditorFailed as error:
            self.notify(str(error), severity="error")
            return None

    # ------------------------------------------------------------------------------------------ themes, help, palette

    def set_theme_named(self, name: str) -> None:
        name = SHORT_NAMES.get(name.strip(), name.strip())
        if name not in self.available_themes:
            self.notify(f"No theme {name!r}: {', '.join(SHORT_NAMES)}", severity="warning")
            return
        self.theme = name

    def watch_theme(self, theme: str) -> None:
        if theme != self.config.theme and self.workspace in self.screen_stack:
            self.config.theme = theme
            with contextlib.suppress(OSError):
                save_setting(self.config.path, "theme", theme)

    def action_help(self) -> None:
        screen = self.screen
        rows: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            binding_id = binding.id or binding.action
            if binding_id in seen:
                continue
            seen.add(binding_id)
            keys = ", ".join(
                self.get_key_display(b.binding)
                for b in screen.active_bindings.values()
                if (b.binding.id or b.binding.action) == binding_id
            )
            rows.append((keys or key, binding_id, binding.description or binding.action, active.enabled))
        from .help_screen import HelpScreen

        unsupported = {
            a.id
            for a in ACTIONS
            if a.command is not None and self.hub_ready and not self.hub.supports(a.command)
        }
        self.push_screen(HelpScreen(rows, unsupported))

    def action_outbox(self) -> None:
        if self.outbox is None:
            self.notify("No outbox in this console: sends are not journalled.", severity="warning")
            return
        from .outbox_screen import OutboxScreen

        self.push_screen(OutboxScreen())

    def _outbox_changed(self, entry: OutboxEntry) -> None:
        # The "2 unsent" of the status line follows every change, not only the once-a-second tick.
        if self.workspace in self.screen_stack:
            self.workspace.refresh_chrome()

    def action_wallboard(self) -> None:
        if not self.config.supervisor:
            self.notify(
                "The wallboard is for supervisors (supervisor = true in the config).", severity="warning"
            )
            return
        from ..core.alerts import AlertConfig
        from .wallboard.screen import WallboardScreen

        try:
            alerts = AlertConfig.from_config(self.config.section("alerts"))
        except ValueError as error:
            self.notify(f"[alerts] in the config: {error}", severity="error")
            return
        self.push_screen(
            WallboardScreen(
                self.store,
                now=self.clock,
                policy=self.config.sla,
                alerts=alerts,
                routing=self.config.routing,
                presence_rules=self.config.presence,
                read_only=False,
                on_command=self.send,
                supports=self.hub.supports,
                bell=self.config.bell,
                queue_figures=self.hub.queue_figures,
                # A help desk's CSAT comes by no event: the board reads it, as `supervise` does.
                records=self.hub.records,
            )
        )

    def macros(self) -> Any:
        """The macro library (shipped, then the user's `macros/` beside the config), loaded once."""
        if self._macros is None:
            from ..core.macros import load_library

            self._macros = load_library(self.config.path.parent / "macros")
            for error in self._macros.errors:
                self.notify(f"Macro file skipped: {error}", severity="warning", timeout=10)
        return self._macros

    def command_completions(self) -> list[str]:
        from .command_line import completions

        return completions(self.config)

    def _show_messages(self) -> None:
        from .messages_screen import MessagesScreen

        self.push_screen(MessagesScreen(self.said))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (title, _) in VIEW_SCOPES.items():
            yield SystemCommand(
                f"View: {title}",
                f"Show the {title.lower()} list",
                lambda n=name: self.workspace.action_view(n),
            )
        yield SystemCommand(
            "Messages", "The recent notices again, newest first (:messages)", self._show_messages
        )
        for short, full in SHORT_NAMES.items():
            yield SystemCommand(
                f"Theme: {short}", f"Switch to the {short} theme", lambda f=full: self.set_theme_named(f)
            )
        for action in ACTIONS:
            if action.id.startswith(("view.", "app.quit")):
                continue
            target = action.action
            yield SystemCommand(
                action.title,
                f"{action.help}  [{self.get_key_display(action.binding())}]",
                lambda t=target: self._run_palette_action(t),
            )

    def _run_palette_action(self, action: str) -> None:
        if action.startswith("app."):
            self.run_action(action[4:])
        else:
            self.workspace.run_action(action)


__all__ = ["StandardisteApp"]
