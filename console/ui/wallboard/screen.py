"""The supervisor wallboard: a Textual `Screen` over the console's `Store`. The standalone app over a local
workspace file (`standardiste supervise`) is in wallboard_app.py, the JSON printer for other tools
(`supervise --json`) in wallboard_json.py; their public names are re-exported here.

The screen recomputes every figure once a second (`metrics.compute`) from copies of the store's lists, in
a thread worker so that a 100k-contact day never stalls the keyboard; one computation runs at a time and a
tick that finds one still running is skipped. Alerts ring the bell once when they rise.

Acting (presence, skills, moving a contact) builds a `backends.base` command and hands it to `on_command`
(the app's `send`), or posts `WallboardScreen.CommandRequested` when no callback is given. In read-only mode,
or when the backend lacks the command, the keys say so instead.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from ....backends.base import Assign, Command, CommandKind, LinkState, SetPresence, SetSkills, Transfer
from ....backends.optional import QueueActivity
from ....widgets.wallboard_tiles import (
    GLYPH,
    PRESENCE_LABEL,
    AgentTable,
    AlertBar,
    BreakdownTable,
    ChannelLine,
    ChannelTile,
    CommentList,
    CsatTable,
    StaffingTable,
    TrendPanel,
    WaitingTable,
    dur,
    pct,
)
from ...core.alerts import Alert, AlertConfig, AlertTracker, evaluate
from ...core.metrics import Figures, compute, local_day_start
from ...core.model import (
    LIVE_CHANNELS,
    Agent,
    Channel,
    Conversation,
    CsatRecord,
    Presence,
    WrapUpRecord,
)
from ...core.presence import PresenceRules, choices
from ...core.routing import RoutingRules
from ...core.sanitize import sanitize
from ...core.skills_text import format_skills, parse_skills
from ...core.sla import SlaPolicy
from ...core.store import Store
from ...core.trends import TOTAL, Trends
from ..dialogs import PickDialog, TextDialog
from .records import RECORDS_EVERY, BoardRecords, ReadRecords, merged, problem_text

Supports = Callable[[CommandKind, Conversation | None], bool]
ALWAYS_SHOWN = (Channel.PHONE, Channel.CHAT, Channel.EMAIL)
# From this many columns the board shows everything side by side instead of one scrolling column.
WIDE = 140


# ---------------------------------------------------------------------------------------------- the screen


def telephony_text(found: Sequence[QueueActivity], problem: str = "") -> Text:
    """One line per backend whose telephony counts its queue itself: calls and callbacks waiting, the
    longest and the average wait, agents online. Backend names and messages are untrusted: sanitised."""
    text = Text()
    for activity in found:
        if text:
            text.append("\n")
        text.append(f"☎ {sanitize(activity.backend, single_line=True)} telephony: ", style="bold")
        parts = [f"{activity.calls_waiting} calls waiting", f"{activity.callbacks_waiting} callbacks"]
        if activity.longest_wait_seconds is not None:
            parts.append(f"longest {dur(activity.longest_wait_seconds)}")
        if activity.average_wait_seconds is not None:
            parts.append(f"average {dur(activity.average_wait_seconds)}")
        if activity.agents_online is not None:
            parts.append(f"{activity.agents_online} agents online")
        text.append(" · ".join(parts))
    if problem:
        if text:
            text.append("\n")
        text.append(f"☎ telephony figures: {sanitize(problem, single_line=True)}", style="italic")
    return text


@dataclass(frozen=True, slots=True)
class _Data:
    conversations: list[Conversation]
    agents: list[Agent]
    wrapups: list[WrapUpRecord]
    csat: list[CsatRecord]
    # What the board read from the backends itself (Records), the store's copies of them not counted again.
    read_csat: tuple[CsatRecord, ...] = ()
    read_wrapups: tuple[WrapUpRecord, ...] = ()


class WallboardScreen(Screen[None]):
    """The live wallboard. Reads `store.conversations`, `.agents`, `.wrapups` and `.csat` every `interval`."""

    class CommandRequested(Message):
        """A supervisor's command for the app to send (posted only when no `on_command` is given)."""

        def __init__(self, command: Command, done: str) -> None:
            super().__init__()
            self.command = command
            self.done = done

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("p", "presence", "Presence", id="wallboard.presence"),
        Binding("s", "skills", "Skills", id="wallboard.skills"),
        Binding("m", "move", "Move contact", id="wallboard.move"),
        Binding("a", "focus_table('wb-agents')", "Agents", id="wallboard.agents", show=False),
        Binding("w", "focus_table('wb-waiting')", "Waiting", id="wallboard.waiting", show=False),
        Binding("q", "close", "Close", id="wallboard.close"),
        # esc goes back when the wallboard was opened over the console; on its own (`supervise`) a stray esc
        # must not end the supervisor's program: only q does.
        Binding("escape", "back", "Back", id="wallboard.back", show=False),
    ]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (WIDE, "-wide")]
    DEFAULT_CSS = """
    WallboardScreen { layout: vertical; }
    WallboardScreen #wb-top { height: 1; background: $panel; padding: 0 1; }
    WallboardScreen #wb-body { height: 1fr; }
    WallboardScreen #wb-tiles { layout: grid; grid-size: 3; height: auto; }
    WallboardScreen #wb-main { height: auto; layout: vertical; }
    WallboardScreen #wb-left, WallboardScreen #wb-right { height: auto; }
    WallboardScreen .wb-section { text-style: bold; color: $secondary; padding: 0 1; margin-top: 1; }
    WallboardScreen ChannelTile.-idle { display: none; }
    /* A small screen keeps a tile for phone, chat and email; the other channels fold into one line. */
    WallboardScreen.-narrow ChannelTile.-minor { display: none; }
    WallboardScreen.-wide #wb-minor, WallboardScreen #wb-minor.-empty { display: none; }
    /* The telephony's own queue figures (a backend with QueueFigures, e.g. Zendesk Talk), when there are. */
    WallboardScreen #wb-telephony { height: auto; padding: 0 1; }
    WallboardScreen #wb-telephony.-empty { display: none; }
    /* The backends whose CSAT and wrap-ups the board could not read (Records), by name. */
    WallboardScreen #wb-records { height: auto; padding: 0 1; }
    WallboardScreen #wb-records.-empty { display: none; }
    /* A large screen shows everything at once: two columns, the long tables take the height left. */
    WallboardScreen.-wide #wb-main { layout: horizontal; height: 1fr; }
    WallboardScreen.-wide #wb-left { width: 3fr; height: 100%; }
    WallboardScreen.-wide #wb-right { width: 2fr; height: 100%; }
    WallboardScreen.-wide #wb-agents { height: 1fr; max-height: 100%; }
    WallboardScreen.-wide #wb-waiting { height: 1fr; max-height: 100%; }
    WallboardScreen.-wide #wb-csat { height: 1fr; max-height: 100%; }
    """

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], float] = time.time,
        policy: SlaPolicy | None = None,
        alerts: AlertConfig | None = None,
        routing: RoutingRules | None = None,
        presence_rules: PresenceRules | None = None,
        read_only: bool = True,
        on_command: Callable[[Command], object] | None = None,
        supports: Supports | None = None,
        tz: tzinfo | None = None,
        interval: float = 1.0,
        bell: bool = True,
        queue_figures: Callable[[], Awaitable[Sequence[QueueActivity]]] | None = None,
        queue_every: float = 10.0,
        records: ReadRecords | None = None,
        records_every: float = RECORDS_EVERY,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.store = store
        self.clock = now
        self.policy = policy or SlaPolicy()
        self.alert_config = alerts or AlertConfig()
        self.routing = routing or RoutingRules()
        self.presence_rules = presence_rules or PresenceRules()
        self.read_only = read_only
        self.on_command = on_command
        self.supports = supports
        self.tz = tz
        self.interval = interval
        self.bell = bell
        # Figures a backend's telephony counts itself (Hub.queue_figures), read every `queue_every` seconds:
        # they cost the backend requests (Zendesk: one a read), not only the console's CPU.
        self.queue_figures = queue_figures
        self.queue_every = queue_every
        # The CSAT and wrap-ups of the backends that keep them (Hub.records), read by the board itself when
        # opened over the console: a help desk's answers come by no event, so the store lacks them.
        self.records = BoardRecords(records, records_every) if records is not None else None
        self.trends = Trends()
        self.tracker = AlertTracker()
        self.figures: Figures | None = None
        self.alerts: list[Alert] = []
        self._busy = False
        self._closed = False

    def compose(self) -> ComposeResult:
        yield Static(id="wb-top")
        with VerticalScroll(id="wb-body"):
            with Grid(id="wb-tiles"):
                for channel in Channel:
                    yield ChannelTile(channel, id=f"tile-{channel.value}")
            yield ChannelLine(id="wb-minor")
            yield Static(id="wb-telephony", classes="-empty")
            yield Static(id="wb-records", classes="-empty")
            yield AlertBar(id="wb-alerts")
            with Horizontal(id="wb-main"):
                with Vertical(id="wb-left"):
                    yield Label("Agents  (a)", classes="wb-section")
                    yield AgentTable(id="wb-agents")
                    yield Label("Waiting contacts, longest first  (w)", classes="wb-section")
                    yield WaitingTable(id="wb-waiting")
                    yield Label("Queues and languages", classes="wb-section")
                    yield BreakdownTable(id="wb-breakdown")
                with Vertical(id="wb-right"):
                    yield Label("Trends", classes="wb-section")
                    yield TrendPanel(id="wb-trends")
                    yield Label(
                        "Staffing what-if (Erlang C): SL and ASA with +k agents", classes="wb-section"
                    )
                    yield StaffingTable(id="wb-staffing")
                    yield Label("CSAT: today and 7 days (weakest agents first)", classes="wb-section")
                    yield CsatTable(id="wb-csat")
                    yield CommentList(id="wb-comments")
        yield Footer()

    def on_mount(self) -> None:
        # The first figures are computed at once so the board never opens empty (at 100k contacts this
        # first pass, with the day's trend, blocks ~0.5 s); then once a second in a worker.
        data = self._copy()
        now = self.clock()
        self._show(*self._compute(data, now))
        self.set_interval(self.interval, self._tick, name="wallboard")
        if self.queue_figures is not None:
            self.call_later(self._read_queue)
            self.set_interval(self.queue_every, self._read_queue, name="wallboard-telephony")
        if self.records is not None:
            self.call_later(self._check_records)
        # The board itself takes the keys (scrolling); focusing a table would scroll the tiles away.
        self.query_one("#wb-body").focus()

    def on_resize(self) -> None:
        self._fit_tiles()

    def _fit_tiles(self) -> None:
        """One row of tiles on a large screen: as many columns as tiles shown."""
        wide = (self.size.width or self.app.size.width) >= WIDE
        shown = [
            t
            for t in self.query(ChannelTile)
            if not t.has_class("-idle") and (wide or not t.has_class("-minor"))
        ]
        self.query_one("#wb-tiles").styles.grid_size_columns = max(1, len(shown))

    # ------------------------------------------------------------------------------------------ refresh

    def _copy(self) -> _Data:
        """Copies taken on the event loop: the worker thread must not iterate dicts the loop is changing."""
        read_csat, read_wrapups = self.records.extra() if self.records is not None else ((), ())
        return _Data(
            list(self.store.conversations.values()),
            list(self.store.agents.values()),
            list(self.store.wrapups),
            list(self.store.csat),
            read_csat,
            read_wrapups,
        )

    def _compute(self, data: _Data, now: float) -> tuple[Figures, list[Alert]]:
        day_start = local_day_start(now, self.tz)
        goal = self.alert_config.live.service_level or 0.8
        # Merged here, in the worker thread: at a busy week's records the look-up is not free.
        wrapups = merged(data.wrapups, data.read_wrapups) if data.read_wrapups else data.wrapups
        csat = merged(data.csat, data.read_csat) if data.read_csat else data.csat
        figures = compute(
            data.conversations,
            data.agents,
            wrapups,
            csat,
            now=now,
            policy=self.policy,
            day_start=day_start,
            goal=goal,
            routing=self.routing,
        )
        self.trends.update(data.conversations, self.policy, now=now, day_start=day_start)
        return figures, evaluate(figures, self.alert_config)

    def _tick(self) -> None:
        self._check_records()
        if self._busy:
            return
        self._busy = True
        data, now = self._copy(), self.clock()
        self.run_worker(lambda: self._work(data, now), thread=True, group="wallboard", exit_on_error=False)

    def _work(self, data: _Data, now: float) -> None:
        try:
            figures, alerts = self._compute(data, now)
        except Exception as error:  # a bad record must not freeze the board: say it and try next second
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self._show, figures, alerts)

    def _failed(self, error: Exception) -> None:
        self._busy = False
        self.notify(f"wallboard: {type(error).__name__}: {error}", severity="error", timeout=4)

    def on_unmount(self) -> None:
        self._closed = True

    async def _read_queue(self) -> None:
        """The telephony's own queue figures, on their line (hidden when no backend counts them)."""
        if self.queue_figures is None or self._closed:
            return
        problem = ""
        try:
            found = list(await self.queue_figures())
        except Exception as error:  # the board goes on without them, and says why
            found, problem = [], str(error) or type(error).__name__
        if self._closed:
            return
        line = self.query_one("#wb-telephony", Static)
        line.set_class(not found and not problem, "-empty")
        line.update(telephony_text(found, problem))

    def _check_records(self) -> None:
        """Read the records of the connected backends that are due (never read, back from down, or read
        `records_every` ago), in a worker: the network never holds up a key."""
        if self.records is None or self._closed:
            return
        connected = [name for name, s in self.store.links.items() if s.state is LinkState.CONNECTED]
        now = self.clock()
        for name in self.records.due(connected, now):
            # One worker a backend: a help desk slow to page its week holds up no other's figures.
            self.records.reading.add(name)
            self.run_worker(self._read_records(name, now), group="wallboard-records", exit_on_error=False)

    async def _read_records(self, name: str, now: float) -> None:
        assert self.records is not None
        self.records.reading.discard(name)  # marked when the worker was made, so no tick made a second one
        try:
            changed = await self.records.refresh([name], now, self.tz)
        except Exception as error:  # Hub.records names what failed; this is for what it did not foresee
            self.records.problems[name] = f"{type(error).__name__}: {error}"
            changed = True
        if self._closed:
            return
        problems = self.records.problems
        line = self.query_one("#wb-records", Static)
        line.set_class(not problems, "-empty")
        line.update(problem_text(problems, self.records.read_at, self.records.every, self.tz))
        if changed:
            self._tick()  # the figures with them now, not at the next second

    def _show(self, figures: Figures, alerts: list[Alert]) -> None:
        self._busy = False
        if self._closed:
            return
        self.figures, self.alerts = figures, alerts
        if self.tracker.update(alerts) and self.bell:
            self.app.bell()
        alerting: dict[Channel, set[str]] = {}
        for alert in alerts:
            alerting.setdefault(alert.channel, set()).add(alert.metric)
        for tile in self.query(ChannelTile):
            idle = tile.channel not in figures.channels and tile.channel not in ALWAYS_SHOWN
            tile.set_class(idle, "-idle")
            tile.set_class(tile.channel not in ALWAYS_SHOWN, "-minor")
            tile.show(figures.channels.get(tile.channel), alerting.get(tile.channel, set()))
        minor = {ch: s for ch, s in figures.channels.items() if ch not in ALWAYS_SHOWN}
        line = self.query_one(ChannelLine)
        line.set_class(not minor, "-empty")
        line.show(minor, alerting)
        self._fit_tiles()
        self._top(figures, alerts)
        self.query_one(AlertBar).show(alerts)
        names = {a.id: a.name for a in figures.agents}
        self.query_one(AgentTable).show(figures.agents, figures.csat_agents)
        self.query_one(WaitingTable).show(figures.waiting, figures.now)
        self.query_one(BreakdownTable).show(figures)
        keys = [TOTAL, *(ch.value for ch in figures.channels)]
        self.query_one(TrendPanel).show(self.trends, keys)
        self.query_one(StaffingTable).show(figures.staffing)
        self.query_one(CsatTable).show(figures, names)
        self.query_one(CommentList).show(figures.comments, names)

    def _top(self, figures: Figures, alerts: Sequence[Alert]) -> None:
        clock = datetime.fromtimestamp(figures.now, self.tz).strftime("%H:%M:%S")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Wallboard ", style="bold").append(clock)
        if self.read_only:
            text.append("  read-only", style="dim")
        if alerts:
            text.append(f"  ✖ {len(alerts)} alert{'s' if len(alerts) > 1 else ''}", style="bold reverse")
        total = figures.total
        text.append(f"  │ waiting {total.waiting}", style="bold")
        text.append(f"  │ SL 15m {pct(total.recent.service_level)} day {pct(total.today.service_level)}")
        counts = figures.presence
        text.append(
            f"  │ ●{counts[Presence.AVAILABLE]} ◐{counts[Presence.BUSY]} ◑{counts[Presence.WRAP_UP]}"
            f" ○{counts[Presence.AWAY]}"
        )
        down = [s for s in self.store.links.values() if s.state is not LinkState.CONNECTED]
        if down:
            text.append(f"  │ ⚠ {', '.join(s.backend for s in down)}", style="bold")
        self.query_one("#wb-top", Static).update(text)

    # ------------------------------------------------------------------------------------------ acting

    def _refusal(self, kind: CommandKind, conversation: Conversation | None = None) -> str | None:
        what = kind.value.replace("_", " ")
        if self.read_only:
            return f"read-only: {what} is off (start with --act, as a supervisor)"
        if self.supports is not None and not self.supports(kind, conversation):
            where = conversation.backend if conversation else "this workspace"
            return f"{where} cannot {what}"
        return None

    def _allowed(self, kind: CommandKind, conversation: Conversation | None = None) -> bool:
        refusal = self._refusal(kind, conversation)
        if refusal:
            self.notify(refusal, severity="warning", timeout=3)
        return refusal is None

    def _send(self, command: Command, done: str) -> None:
        if self.on_command is not None:
            self.on_command(command)
        else:
            self.post_message(self.CommandRequested(command, done))
        self.notify(done, timeout=2)

    def _selected_agent(self) -> Agent | None:
        key = self.query_one(AgentTable).selected_key
        agent = self.store.agents.get(key) if key else None
        if agent is None:
            self.notify("Select an agent first (a).", severity="warning", timeout=3)
        return agent

    def action_presence(self) -> None:
        if not self._allowed(CommandKind.PRESENCE):
            return
        agent = self._selected_agent()
        if agent is None:
            return
        options = [(f"{c.presence.value}:{c.reason}", c.label) for c in choices(self.presence_rules)]

        def chosen(value: str | None) -> None:
            if not value:
                return
            name, _, reason = value.partition(":")
            presence = Presence(name)
            label = f"{presence.value} ({reason})" if reason else presence.value
            self._send(
                SetPresence(agent_id=agent.id, presence=presence, reason=reason), f"{agent.name}: {label}"
            )

        self.app.push_screen(PickDialog(f"Presence of {_plain(agent.name)}", options), chosen)

    def action_skills(self) -> None:
        if not self._allowed(CommandKind.SET_SKILLS):
            return
        agent = self._selected_agent()
        if agent is None:
            return

        def entered(text: str | None) -> None:
            if text is None:
                return
            try:
                skills, capacity = parse_skills(text, agent)
            except ValueError as error:
                self.notify(str(error), severity="error", timeout=5)
                return
            self._send(
                SetSkills(agent_id=agent.id, skills=skills, capacity=capacity),
                f"{agent.name}: skills changed",
            )

        dialog = TextDialog(
            f"Skills of {_plain(agent.name)}",
            value=format_skills(agent),
            placeholder="phone=2 languages=en,fr",
        )
        self.app.push_screen(dialog, entered)

    def action_move(self) -> None:
        key = self.query_one(WaitingTable).selected_key
        conversation = self.store.conversations.get(key) if key else None
        if conversation is None:
            if not self._allowed(CommandKind.TRANSFER):
                return
            self.notify("Select a waiting contact first (w).", severity="warning", timeout=3)
            return
        kind = CommandKind.ASSIGN if _assign_only(conversation) else CommandKind.TRANSFER
        if not self._allowed(kind, conversation):
            return
        options = _move_options(self.figures, conversation)

        def chosen(value: str | None) -> None:
            if not value:
                return
            target_kind, _, target = value.partition(":")
            if target_kind == "agent" and kind is CommandKind.ASSIGN:
                command: Command = Assign(conversation_id=conversation.id, assignee=target)
            elif target_kind == "agent":
                command = Transfer(conversation_id=conversation.id, to_agent=target)
            else:
                if not self._allowed(CommandKind.TRANSFER, conversation):
                    return
                command = Transfer(conversation_id=conversation.id, to_queue=target)
            self._send(command, f"{conversation.id} → {target}")

        who = _plain(conversation.customer_name)
        about = _plain(conversation.subject)[:40]
        self.app.push_screen(PickDialog(f"Move {who} ({conversation.channel.value}: {about}) to", options), chosen)

    def action_focus_table(self, table_id: str) -> None:
        self.query_one(f"#{table_id}").focus()

    def action_close(self) -> None:
        if self.app.screen_stack[0] is self:
            self.app.exit()
        else:
            self.app.pop_screen()

    def action_back(self) -> None:
        if self.app.screen_stack[0] is self:
            self.notify("q quits the wallboard.", timeout=2)
        else:
            self.app.pop_screen()


def _assign_only(conversation: Conversation) -> bool:
    """An unowned inbox contact is simply given to someone; anything live, or owned, is transferred (a
    call rings for its new owner)."""
    return conversation.assignee is None and conversation.channel not in LIVE_CHANNELS


def _move_options(figures: Figures | None, conversation: Conversation) -> list[tuple[str, str]]:
    options: list[tuple[str, str]] = []
    if figures is not None:
        for status in figures.agents:
            if status.presence is Presence.OFFLINE or status.id == conversation.assignee:
                continue
            load = " ".join(f"{GLYPH[ch]}{n}/{cap}" for ch, (n, cap) in status.load.items())
            label = f"{_plain(status.name)}  {PRESENCE_LABEL[status.presence]}  {load}"
            options.append((f"agent:{status.id}", label))
        for queue in figures.queues:
            if queue != conversation.queue:
                options.append((f"queue:{queue}", f"queue {_plain(queue)}"))
    return options


def _plain(text: str) -> str:
    """Names for the dialogs' one-line labels (the dialogs draw them as `Text`, never markup)."""
    return sanitize(text, single_line=True)


__all__ = ["ALWAYS_SHOWN", "WIDE", "Supports", "WallboardScreen", "format_skills", "parse_skills"]
