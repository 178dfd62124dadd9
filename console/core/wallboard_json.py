"""The wallboard's figures without a screen: the settings they take from the user's config, one JSON-ready
object from a source of records, and `standardiste supervise --json`, which prints one per interval.

The source is opened by whoever composes the program (`__main__` opens the workspace file): this module
knows what it reads, not where from.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import IO, Any, Protocol

from .alerts import AlertConfig, evaluate
from .config import Config, ConfigError, load_config
from .metrics import WEEK_SECONDS, as_json, compute, local_day_start
from .model import Agent, Conversation, CsatRecord, WrapUpRecord
from .routing import RoutingRules
from .sla import SlaPolicy


def figure_settings(config: Config) -> dict[str, Any]:
    """What the figures take from the user's config: `[sla]`, `[alerts]` and `[routing]`.
    Raises ConfigError naming the bad key."""
    try:
        return {
            "policy": config.sla,
            "alerts": AlertConfig.from_config(config.section("alerts")),
            "routing": RoutingRules.from_config(config.section("routing")),
        }
    except ValueError as error:
        raise ConfigError(f"{config.path}: {error}") from None


class FigureSource(Protocol):
    """What the figures are read from: the local `Workspace` is one."""

    def conversations(self, since: float = ...) -> list[Conversation]: ...
    def agents(self) -> list[Agent]: ...
    def wrapups(self, since: float = ...) -> list[WrapUpRecord]: ...
    def csat(self, since: float = ...) -> list[CsatRecord]: ...
    def close(self) -> None: ...


def prepare_settings(config: Config | None) -> tuple[Config, dict[str, Any]] | None:
    """The config and figure settings, or None after saying on stderr what is wrong."""
    try:
        config = config or load_config()
        return config, figure_settings(config)
    except ConfigError as error:
        print(f"standardiste supervise: bad config: {error}", file=sys.stderr)
        return None


# ---------------------------------------------------------------------------------------------- JSON


def read_figures(
    source: FigureSource,
    *,
    now: float,
    policy: SlaPolicy | None = None,
    alerts: AlertConfig | None = None,
    routing: RoutingRules | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """One JSON-ready object of figures from an open source, at `now`."""
    day_start = local_day_start(now, tz)
    since = min(day_start, now - 3600)
    config = alerts or AlertConfig()
    figures = compute(
        source.conversations(since=since),
        source.agents(),
        source.wrapups(since=since),
        source.csat(since=now - WEEK_SECONDS),
        now=now,
        policy=policy,
        day_start=day_start,
        goal=config.live.service_level or 0.8,
        routing=routing,
    )
    data = as_json(figures)
    data["alerts"] = [
        {
            "channel": a.channel.value,
            "metric": a.metric,
            "value": a.value,
            "threshold": a.threshold,
            "message": a.message,
        }
        for a in evaluate(figures, config)
    ]
    return data


def iter_figures(
    open_source: Callable[[], FigureSource],
    *,
    interval: float = 1.0,
    count: int | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Open the source, then yield figures every `interval` seconds (`count` times, or for ever)."""
    source = open_source()
    try:
        produced = 0
        while count is None or produced < count:
            started = time.monotonic()
            yield read_figures(source, now=clock(), **options)
            produced += 1
            if count is None or produced < count:
                sleep(max(0.0, interval - (time.monotonic() - started)))
    finally:
        source.close()


def print_json(
    open_source: Callable[[], FigureSource],
    *,
    interval: float = 1.0,
    count: int | None = None,
    out: IO[str] | None = None,
    config: Config | None = None,
    clock: Callable[[], float] = time.time,
    tz: tzinfo | None = None,
) -> int:
    """`standardiste supervise --json`: one JSON object per line per interval, on stdout (JSON Lines)."""
    prepared = prepare_settings(config)
    if prepared is None:
        return 2
    _, settings = prepared
    stream = out or sys.stdout
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        for figures in iter_figures(open_source, interval=interval, count=count, clock=clock, tz=tz, **settings):
            stream.write(json.dumps(figures, ensure_ascii=False, allow_nan=False) + "\n")
            stream.flush()
    return 0
