"""The wallboard's pieces: a tile per channel, trend sparklines, and small tables (agents, waiting contacts,
staffing, CSAT, queues and languages). Each takes ready figures (`console.metrics`) and draws them; none
computes anything but layout.

Tables are Textual `DataTable`s: they hold tens of rows (agents, channels, queues), never the whole queue.
An alerting figure is drawn in reverse video with the ✖ glyph, so it does not rest on colour alone.
Customer text (subjects, CSAT comments) goes through `sanitize` and is never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from statistics import fmean

from rich.align import Align
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static
from textual.widgets.data_table import CellDoesNotExist

from ..console.core.alerts import Alert
from ..console.core.metrics import BACKLOG_LABELS, AgentStatus, Csat, CsatPair, Figures, Slice, Staffing
from ..console.core.model import Channel, Conversation, CsatRecord, Presence
from ..console.core.sanitize import sanitize
from ..console.core.sla import format_duration
from ..console.core.trends import TOTAL, Trends
from .safe_text import safe_text

GLYPH = {
    Channel.PHONE: "☎",
    Channel.CHAT: "◆",
    Channel.EMAIL: "✉",
    Channel.CALLBACK: "↺",
    Channel.FORM: "▤",
    Channel.SOCIAL: "#",
}
PRESENCE_LABEL = {
    Presence.AVAILABLE: "● available",
    Presence.BUSY: "◐ busy",
    Presence.WRAP_UP: "◑ wrap-up",
    Presence.AWAY: "○ away",
    Presence.OFFLINE: "× offline",
}
ALERT_STYLE = "bold reverse"
DASH = "–"


def pct(share: float | None) -> str:
    return DASH if share is None else f"{share * 100:.0f}%"


def dur(seconds: float | None) -> str:
    return DASH if seconds is None else format_duration(seconds)


def score(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _figure(value: str, alerting: bool) -> Text:
    return Text(f"✖{value}", style=ALERT_STYLE) if alerting else Text(value, style="bold")


# ---------------------------------------------------------------------------------------------- tiles


class ChannelTile(Static):
    """One channel at a glance: queue, service level, abandonment, speed, handle time, breaches (for inbox
    channels the backlog by age instead of abandonment and speed). Alerting figures are marked with ✖ in
    reverse video, and the tile's border turns heavy and red."""

    DEFAULT_CSS = """
    ChannelTile {
        height: 8; border: round $primary 60%; padding: 0 0; border-title-style: bold;
    }
    ChannelTile.-alert { border: heavy $error; border-title-color: $error; }
    """

    def __init__(self, channel: Channel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.channel = channel
        self.border_title = Text(f"{GLYPH[channel]} {channel.value}")

    def show(self, figures: Slice | None, alerts: Collection[str] = ()) -> None:
        s = figures or Slice("channel", self.channel.value)
        self.set_class(bool(alerts), "-alert")
        # Not stretched: on a wide tile the figures stay next to their labels, centred.
        grid = Table.grid(expand=False, padding=(0, 0))
        grid.add_column(no_wrap=True, min_width=8)
        grid.add_column(justify="right", no_wrap=True, min_width=4)
        grid.add_column(no_wrap=True, min_width=6)
        grid.add_column(justify="right", no_wrap=True, min_width=6)

        def row(left: str, left_value: Text, right: str, right_value: Text) -> None:
            grid.add_row(f" {left}", left_value, f" {right}", right_value)

        row(
            "Waiting",
            _figure(str(s.waiting), "waiting" in alerts),
            "Max",
            _figure(dur(s.longest_wait) if s.waiting else DASH, "longest_wait" in alerts),
        )
        row(
            "SL 15m",
            _figure(pct(s.recent.service_level), "service_level" in alerts),
            "Today",
            _figure(pct(s.today.service_level), False),
        )
        if self.channel in (Channel.EMAIL, Channel.FORM, Channel.SOCIAL):
            old = "backlog_24h" in alerts
            cells = [
                _figure(str(n), old and index == len(s.backlog) - 1) for index, n in enumerate(s.backlog)
            ]
            row(BACKLOG_LABELS[0], cells[0], BACKLOG_LABELS[1], cells[1])
            row(BACKLOG_LABELS[2], cells[2], BACKLOG_LABELS[3], cells[3])
        else:
            row(
                "Aband.",
                _figure(pct(s.recent.abandonment_rate), "abandonment" in alerts),
                "ASA",
                _figure(dur(s.today.asa), "asa" in alerts),
            )
            row("Answer", _figure(str(s.today.answered), False), "Arr30", _figure(str(s.arrivals), False))
        row("AHT", _figure(dur(s.today.aht), False), "Done", _figure(str(s.today.handled), False))
        row(
            "Breach",
            _figure(str(s.breaches), "breaches" in alerts),
            "Lost",
            _figure(str(s.today.abandoned), False),
        )
        self.update(Align.center(grid))


class ChannelLine(Static):
    """The minor channels folded into one line on a small screen: waiting, oldest wait and breaches."""

    DEFAULT_CSS = "ChannelLine { height: 1; padding: 0 1; }"

    def show(self, channels: Mapping[Channel, Slice], alerting: Mapping[Channel, Collection[str]]) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, (channel, s) in enumerate(channels.items()):
            if index:
                text.append("  │  ", style="dim")
            style = ALERT_STYLE if alerting.get(channel) else "bold"
            text.append(f"{GLYPH[channel]} {channel.value} ", style=style)
            text.append(f"{s.waiting} waiting")
            if s.waiting:
                text.append(f", oldest {dur(s.longest_wait)}")
            if s.breaches:
                text.append(f", {s.breaches} breached", style="bold")
        self.update(text)


class AlertBar(Static):
    DEFAULT_CSS = """
    AlertBar { height: auto; padding: 0 1; background: $error 30%; display: none; }
    AlertBar.-on { display: block; }
    """

    def show(self, alerts: Sequence[Alert]) -> None:
        self.set_class(bool(alerts), "-on")
        text = Text()
        for index, alert in enumerate(alerts):
            if index:
                text.append("  ·  ", style="dim")
            text.append("✖ ", style="bold").append(alert.message)
        self.update(text)


class TrendRow(Horizontal):
    """Label, queue-depth sparkline with its latest value, service-level sparkline with its latest value."""

    DEFAULT_CSS = """
    TrendRow { height: 1; }
    TrendRow > .trend-label { width: 11; }
    TrendRow > .trend-value { width: 12; padding-left: 1; }
    TrendRow > Sparkline { width: 1fr; }
    """

    def __init__(self, key: str) -> None:
        super().__init__(id=f"trend-{key}")
        self.key = key

    def compose(self) -> ComposeResult:
        glyph = GLYPH.get(Channel(self.key), "") if self.key != TOTAL else "Σ"
        yield Label(safe_text(f"{glyph} {self.key}", single_line=True), classes="trend-label")
        yield Sparkline([], summary_function=max, classes="trend-depth")
        yield Label("", classes="trend-value depth-value")
        yield Sparkline([], summary_function=fmean, classes="trend-sl")
        yield Label("", classes="trend-value sl-value")

    def show(self, depth: list[float], service: list[float]) -> None:
        # The lines move once a minute; redrawing them every second would be wasted work.
        for selector, data in ((".trend-depth", depth), (".trend-sl", service)):
            line = self.query_one(selector, Sparkline)
            if line.data != data:
                line.data = data
        peak = f" ↑{max(depth):.0f}" if depth else ""
        self.query_one(".depth-value", Label).update(Text(f"q {depth[-1]:.0f}{peak}" if depth else "q –"))
        low = f" ↓{pct(min(service))}" if service else ""
        self.query_one(".sl-value", Label).update(Text(f"{pct(service[-1])}{low}" if service else "SL –"))


class TrendPanel(Vertical):
    """Queue depth (peak per column) and 15-minute service level (mean per column) since midnight."""

    DEFAULT_CSS = """
    TrendPanel { height: auto; }
    TrendPanel > .trend-head { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label(
            "since 00:00 — queue depth (now ↑peak) │ service level 15m (now ↓low)", classes="trend-head"
        )

    def show(self, trends: Trends, keys: Iterable[str]) -> None:
        for key in keys:
            rows = self.query(f"#trend-{key}")
            row = rows.first(TrendRow) if rows else None
            if row is None:
                row = TrendRow(key)
                self.mount(row)
                self.call_after_refresh(self._fill, row, trends)
                continue
            row.show(trends.depth(key), trends.service(key))

    def _fill(self, row: TrendRow, trends: Trends) -> None:
        row.show(trends.depth(row.key), trends.service(row.key))


# ---------------------------------------------------------------------------------------------- tables


def _plain_cell(cell: Text | str) -> Text:
    return cell if isinstance(cell, Text) else safe_text(cell, single_line=True)


class BoardTable(DataTable[Text | str]):
    """A small table that keeps its cursor on the same row key across refreshes."""

    DEFAULT_CSS = """
    BoardTable { height: auto; max-height: 14; }
    BoardTable:focus { border: none; }
    """

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns = columns
        for label in columns:
            self.add_column(label, key=label)

    def fill(self, rows: Iterable[tuple[str, Sequence[Text | str]]]) -> None:
        """Replace the rows; cells are updated in place while the row order stays the same.

        DataTable reads a `str` cell as markup, and cells hold queue names, agent ids and reasons from the
        workspace: every `str` cell becomes sanitised `Text` here, so no row builder can get it wrong."""
        rows = [(key, [_plain_cell(cell) for cell in cells]) for key, cells in rows]
        keys = [key for key, _ in rows]
        current = [str(row.value) for row in self.rows]
        if keys == current:
            # Any update re-renders the whole table (DataTable keys its caches on an update count), so
            # only the cells that changed are written: a table whose figures stand still costs nothing.
            for key, cells in rows:
                for label, cell in zip(self._columns, cells, strict=True):
                    if self.get_cell(key, label) != cell:
                        self.update_cell(key, label, cell)
            return
        selected = self.selected_key
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except CellDoesNotExist:  # the cursor is past the rows during a refill
            return None


def _load(status: AgentStatus) -> Text:
    text = Text()
    for channel, (n, cap) in status.load.items():
        style = "bold" if cap and n >= cap else ("" if n else "dim")
        text.append(f"{GLYPH[channel]}{n}/{cap} ", style=style)
    return text


class AgentTable(BoardTable):
    COLUMNS = ("Agent", "State", "For", "On", "Load", "Done", "AHT", "CSAT 7d")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.COLUMNS, id=id)

    def show(self, agents: Sequence[AgentStatus], csat: Mapping[str, CsatPair]) -> None:
        self.fill((a.id, self._cells(a, csat.get(a.id))) for a in agents)

    @staticmethod
    def _cells(a: AgentStatus, csat: CsatPair | None) -> list[Text | str]:
        state = PRESENCE_LABEL[a.presence]
        if a.presence is Presence.AWAY and a.reason:
            state += f": {sanitize(a.reason, single_line=True)}"
        elif a.declared is Presence.BUSY and a.reason:
            state += " (dnd)"
        on = Text(no_wrap=True, overflow="ellipsis")
        if a.activities:
            first = a.activities[0]
            on.append(
                f"{GLYPH[first.channel]} {first.conversation_id.partition(':')[2] or first.conversation_id} "
            )
            on.append_text(safe_text(first.subject[:40], single_line=True))
            if len(a.activities) > 1:
                on.append(f" +{len(a.activities) - 1}", style="dim")
        since = a.for_seconds  # the same figure as `for_seconds` in --json
        mean = csat.week.mean if csat else None
        return [
            Text(sanitize(a.name, single_line=True), style="bold"),
            state,
            dur(since),
            on,
            _load(a),
            str(a.handled_today),
            dur(a.aht_today),
            score(mean),
        ]


class WaitingTable(BoardTable):
    COLUMNS = ("Wait", "Ch", "Queue", "Lang", "Customer", "Subject", "Owner")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.COLUMNS, id=id)

    def show(self, waiting: Sequence[Conversation], now: float, limit: int = 50) -> None:
        def cells(c: Conversation) -> list[Text | str]:
            since = c.created_at if c.answered_at is None else c.updated_at
            return [
                Text(dur(now - since), style="bold"),
                GLYPH[c.channel],
                sanitize(c.queue, single_line=True),
                sanitize(c.language, single_line=True),
                safe_text(c.customer_name[:24], single_line=True),
                safe_text(c.subject[:48], single_line=True),
                c.assignee or DASH,
            ]

        self.fill((c.id, cells(c)) for c in waiting[:limit])


class StaffingTable(BoardTable):
    COLUMNS = ("Channel", "Arr/h", "AHT", "Agents", "SL now", "ASA now", "+1", "+2", "+3", "Need")
    """`Need`: the fewest agents whose predicted service level reaches the goal (the SL alert threshold)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.COLUMNS, id=id)

    def show(self, staffing: Mapping[Channel, Staffing]) -> None:
        def cells(st: Staffing) -> list[Text | str]:
            if not st.estimates:
                blank = [DASH] * (len(self.COLUMNS) - 4)
                return [
                    f"{GLYPH[st.channel]} {st.channel.value}",
                    f"{st.arrivals_per_hour:.0f}",
                    DASH,
                    str(st.servers),
                    *blank,
                ]
            now, *more = st.estimates
            asa = "∞" if now.overloaded else dur(now.asa)
            return [
                f"{GLYPH[st.channel]} {st.channel.value}",
                f"{st.arrivals_per_hour:.0f}",
                dur(st.aht),
                str(st.servers),
                Text(pct(now.service_level), style="bold"),
                asa,
                *(f"{pct(e.service_level)} {dur(e.asa) if not e.overloaded else '∞'}" for e in more),
                DASH if st.needed is None else str(st.needed),
            ]

        self.fill((ch.value, cells(st)) for ch, st in staffing.items())


def _csat_cells(pair: CsatPair) -> list[Text | str]:
    def part(c: Csat) -> list[Text | str]:
        weak = c.mean is not None and c.mean < 3.5
        return [
            str(c.count),
            Text(score(c.mean), style=ALERT_STYLE if weak else "bold"),
            pct(c.satisfied_share),
        ]

    return [*part(pair.today), *part(pair.week)]


class CsatTable(BoardTable):
    """Per channel, then per agent, weakest 7-day mean first; a mean under 3.5 is marked."""

    COLUMNS = ("Who", "n", "Today", "Sat", "n 7d", "7 days", "Sat 7d")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.COLUMNS, id=id)

    def show(self, figures: Figures, names: Mapping[str, str]) -> None:
        rows: list[tuple[str, Sequence[Text | str]]] = [("all", ["all", *_csat_cells(figures.csat)])]
        for channel, pair in figures.csat_channels.items():
            rows.append((f"ch:{channel.value}", [f"{GLYPH[channel]} {channel.value}", *_csat_cells(pair)]))
        weakest = sorted(figures.csat_agents.items(), key=lambda item: (item[1].week.mean or 0.0, item[0]))
        for agent_id, pair in weakest:
            name = sanitize(names.get(agent_id, agent_id), single_line=True)
            rows.append((f"agent:{agent_id}", [name, *_csat_cells(pair)]))
        self.fill(rows)


class CommentList(Static):
    """The week's CSAT comments, worst score first: sanitised customer text, never markup."""

    DEFAULT_CSS = "CommentList { height: auto; max-height: 8; padding: 0 1; }"

    def show(self, comments: Sequence[CsatRecord], names: Mapping[str, str], limit: int = 6) -> None:
        text = Text(no_wrap=False)
        for index, record in enumerate(comments[:limit]):
            if index:
                text.append("\n")
            style = ALERT_STYLE if record.score <= 2 else "bold"
            text.append(f"{record.score}★", style=style)
            who = names.get(record.agent_id or "", record.agent_id or DASH)
            text.append(f" {GLYPH[record.channel]} {sanitize(who, single_line=True)}: ", style="dim")
            text.append_text(safe_text(record.comment[:200], single_line=True))
        if not comments:
            text.append("no comments this week", style="dim")
        self.update(text)


class BreakdownTable(BoardTable):
    COLUMNS = (
        "Queue / language",
        "Wait",
        "Longest",
        "SL 15m",
        "SL day",
        "Aband.",
        "ASA",
        "AHT",
        "Done",
        "Breach",
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.COLUMNS, id=id)

    def show(self, figures: Figures) -> None:
        def cells(label: str, s: Slice) -> list[Text | str]:
            return [
                label,
                str(s.waiting),
                dur(s.longest_wait) if s.waiting else DASH,
                pct(s.recent.service_level),
                pct(s.today.service_level),
                pct(s.today.abandonment_rate),
                dur(s.today.asa),
                dur(s.today.aht),
                str(s.today.handled),
                str(s.breaches),
            ]

        rows = [
            (f"q:{key}", cells(f"queue {sanitize(key, single_line=True)}", s))
            for key, s in figures.queues.items()
        ]
        rows += [
            (f"l:{key}", cells(f"lang {sanitize(key, single_line=True)}", s))
            for key, s in figures.languages.items()
        ]
        self.fill(rows)
