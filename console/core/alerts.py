"""Wallboard alerts: thresholds from the `[alerts]` table of the config, checked against the figures.

    [alerts]
    longest_wait = 60          # seconds (or "1m"): a contact waiting longer than this
    service_level = "80%"      # the last 15 minutes' service level below this (0.8, 80 and "80%" alike)
    abandonment = "10%"        # the last 15 minutes' abandonment rate above this
    min_sample = 5             # SL and abandonment alert only over at least this many contacts
    waiting = 10               # more contacts waiting than this (off unless set)
    breaches = 0               # more open SLA breaches than this (off unless set)
    asa = 30                   # today's average speed of answer above this (off unless set)
    csat = 3.5                 # today's mean CSAT (1-5) below this (off unless set)
    backlog_24h = 0            # more inbox contacts older than 24 h than this (off unless set)

    [alerts.email]             # a channel's own table: overrides the top level for that channel
    longest_wait = "4h"

The top-level thresholds are about seconds, so they apply to the live channels (phone, chat); another
channel is watched only through its own table (which starts from no thresholds). `false` turns one off.
An alert is raised per channel and highlights that channel's tile; `AlertTracker` says which are new, so
the bell rings once per alert instead of every second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .metrics import Figures, Slice
from .model import LIVE_CHANNELS, Channel
from .sla import format_duration, parse_duration


@dataclass(frozen=True, slots=True)
class Thresholds:
    longest_wait: float | None = None
    service_level: float | None = None
    abandonment: float | None = None
    min_sample: int = 5
    waiting: int | None = None
    breaches: int | None = None
    asa: float | None = None
    csat: float | None = None
    backlog_24h: int | None = None


LIVE_DEFAULTS = Thresholds(longest_wait=60.0, service_level=0.80, abandonment=0.10)


@dataclass(frozen=True, slots=True)
class AlertConfig:
    live: Thresholds = LIVE_DEFAULTS
    channels: Mapping[Channel, Thresholds] = field(default_factory=dict)

    def for_channel(self, channel: Channel) -> Thresholds | None:
        own = self.channels.get(channel)
        if own is not None:
            return own
        return self.live if channel in LIVE_CHANNELS else None

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> AlertConfig:
        """Build from the `[alerts]` table; raises ValueError naming a bad key."""
        live = _thresholds(LIVE_DEFAULTS, data, "alerts")
        channels: dict[Channel, Thresholds] = {}
        for name, table in data.items():
            if not isinstance(table, Mapping):
                continue
            try:
                channel = Channel(str(name))
            except ValueError:
                raise ValueError(f"alerts.{name}: not a channel ({', '.join(Channel)})") from None
            base = live if channel in LIVE_CHANNELS else Thresholds()
            channels[channel] = _thresholds(base, table, f"alerts.{name}")
        return cls(live, channels)


_DURATIONS = {"longest_wait", "asa"}
_SHARES = {"service_level", "abandonment"}
_COUNTS = {"min_sample", "waiting", "breaches", "backlog_24h"}


def _thresholds(base: Thresholds, data: Mapping[str, Any], where: str) -> Thresholds:
    known = {f.name for f in fields(Thresholds)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            continue
        if key not in known:
            raise ValueError(f"{where}.{key}: unknown threshold (known: {', '.join(sorted(known))})")
        try:
            changes[key] = _value(key, value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}.{key}: bad value {value!r}") from None
    return replace(base, **changes)


def _value(key: str, value: object) -> float | int | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none", "")):
        if key == "min_sample":
            raise ValueError(key)
        return None
    if isinstance(value, bool):
        raise ValueError(key)
    if key in _DURATIONS:
        return parse_duration(value)
    if key in _SHARES:
        return parse_share(value)
    if key in _COUNTS:
        return int(str(value))
    return float(str(value))


def parse_share(value: object) -> float:
    """`0.8`, `80`, `"80%"` -> 0.8."""
    text = str(value).strip()
    number = float(text.rstrip("%"))
    if text.endswith("%") or number > 1:
        number /= 100.0
    if not 0.0 <= number <= 1.0:
        raise ValueError(value)
    return number


@dataclass(frozen=True, slots=True)
class Alert:
    channel: Channel
    metric: str
    value: float
    threshold: float
    message: str

    @property
    def key(self) -> str:
        return f"{self.channel.value}.{self.metric}"


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def channel_alerts(
    channel: Channel, figures: Slice, limits: Thresholds, csat_mean: float | None
) -> list[Alert]:
    found: list[Alert] = []

    def add(metric: str, value: float, threshold: float, message: str) -> None:
        found.append(Alert(channel, metric, value, threshold, f"{channel.value}: {message}"))

    recent = figures.recent
    if limits.longest_wait is not None and figures.longest_wait > limits.longest_wait:
        add(
            "longest_wait",
            figures.longest_wait,
            limits.longest_wait,
            f"longest wait {format_duration(figures.longest_wait)} > {format_duration(limits.longest_wait)}",
        )
    sl = recent.service_level
    sl_sample = recent.sl_counted >= limits.min_sample
    if limits.service_level is not None and sl is not None and sl_sample and sl < limits.service_level:
        add(
            "service_level",
            sl,
            limits.service_level,
            f"SL 15m {_percent(sl)} < {_percent(limits.service_level)}",
        )
    rate = recent.abandonment_rate
    rate_sample = recent.answered + recent.abandoned >= limits.min_sample
    if limits.abandonment is not None and rate is not None and rate_sample and rate > limits.abandonment:
        add(
            "abandonment",
            rate,
            limits.abandonment,
            f"abandoned {_percent(rate)} > {_percent(limits.abandonment)}",
        )
    if limits.waiting is not None and figures.waiting > limits.waiting:
        add("waiting", figures.waiting, limits.waiting, f"{figures.waiting} waiting > {limits.waiting}")
    if limits.breaches is not None and figures.breaches > limits.breaches:
        add(
            "breaches",
            figures.breaches,
            limits.breaches,
            f"{figures.breaches} SLA breaches > {limits.breaches}",
        )
    asa = figures.today.asa
    if limits.asa is not None and asa is not None and asa > limits.asa:
        add("asa", asa, limits.asa, f"ASA {format_duration(asa)} > {format_duration(limits.asa)}")
    if limits.csat is not None and csat_mean is not None and csat_mean < limits.csat:
        add("csat", csat_mean, limits.csat, f"CSAT {csat_mean:.1f} < {limits.csat:.1f}")
    old = figures.backlog[-1]
    if limits.backlog_24h is not None and old > limits.backlog_24h:
        add("backlog_24h", old, limits.backlog_24h, f"{old} older than 24h > {limits.backlog_24h}")
    return found


def evaluate(figures: Figures, config: AlertConfig) -> list[Alert]:
    """Every threshold crossed now, channel by channel."""
    found: list[Alert] = []
    for channel, channel_figures in figures.channels.items():
        limits = config.for_channel(channel)
        if limits is None:
            continue
        pair = figures.csat_channels.get(channel)
        found.extend(channel_alerts(channel, channel_figures, limits, pair.today.mean if pair else None))
    return found


class AlertTracker:
    """Remembers which alerts were up, to tell the new ones (ring once) from those still up."""

    def __init__(self) -> None:
        self.active: dict[str, Alert] = {}

    def update(self, alerts: Iterable[Alert]) -> list[Alert]:
        current = {alert.key: alert for alert in alerts}
        new = [alert for key, alert in current.items() if key not in self.active]
        self.active = current
        return new
