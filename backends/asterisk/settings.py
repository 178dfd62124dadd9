"""The `[workspaces.NAME]` table of an Asterisk workspace (docs/asterisk.md), checked once when it is built.

Lists of pairs are TOML lists of `left=right` strings (the settings reader knows lists of text only):
`agent_phones = ["bob=PJSIP/bob"]`, `languages = ["+33=fr", "ventes=fr"]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base import Invalid
from ..setting import REQUIRED, Setting
from ..settings import read_settings
from .directory import Known, read_directory

SETTINGS: tuple[Setting, ...] = (
    Setting("url", str, REQUIRED, help="ARI's base URL, e.g. http://127.0.0.1:8088/ari"),
    Setting("user", str, REQUIRED, help="the ARI user of ari.conf"),
    Setting("password", secret=True, help="that user's password (standardiste login NAME)"),
    Setting("app", str, "standardiste", help="the Stasis application the dialplan sends customers' calls to"),
    Setting("queues", tuple, ("general",), help="the console's phone queues"),
    Setting(
        "queue_argument",
        str,
        "queue-{queue}",
        help="the Stasis argument that names a queue ({queue} is replaced by its name)",
    ),
    Setting("phone", str, REQUIRED, help="this agent's phone endpoint, e.g. PJSIP/alice"),
    Setting("agent_phones", tuple, (), help="other agents' phones for transfers: agent=endpoint"),
    Setting(
        "callback_dial",
        str,
        "",
        help="the endpoint a callback dials, {number} replaced: Local/{number}@outgoing or PJSIP/{number}@trunk",
    ),
    Setting(
        "ring_seconds", float, 20.0, positive=True, help="how long an agent's phone rings before giving up"
    ),
    Setting("moh_class", str, "default", help="the hold music class (musiconhold.conf)"),
    Setting("language", str, "en", help="the callers' language when nothing else says"),
    Setting("languages", tuple, (), help="language by number prefix or queue: +33=fr, ventes=fr"),
    Setting("timeout", float, 10.0, positive=True, help="seconds before a silent ARI request is given up"),
    Setting("directory", Path, None, help="a CSV of known customers: number,name,language,email"),
    Setting(
        "team",
        str,
        "",
        help="the team's shared workspace (a local workspace file or postgresql://...): several consoles on one queue",
    ),
    Setting(
        "team_password",
        secret=True,
        help="the team's PostgreSQL password, when its DSN has none (or PGPASSWORD, or ~/.pgpass)",
    ),
)


@dataclass(frozen=True, slots=True)
class AsteriskSettings:
    url: str
    user: str
    phone: str
    app: str = "standardiste"
    queues: tuple[str, ...] = ("general",)
    queue_argument: str = "queue-{queue}"
    agent_phones: dict[str, str] = field(default_factory=dict)
    callback_dial: str = ""
    ring_seconds: float = 20.0
    moh_class: str = "default"
    language: str = "en"
    # Number prefixes (longest first) and queue names to a language.
    prefix_languages: tuple[tuple[str, str], ...] = ()
    queue_languages: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    # Known customers by normalised number (directory.py).
    directory: dict[str, Known] = field(default_factory=dict)
    # Where the consoles of a team share the queue (team.py): a path or a postgresql:// DSN; "" alone.
    team: str = ""

    def queue_of(self, args: list[str]) -> str | None:
        """The queue a Stasis argument names, or None when none does."""
        for arg in args:
            for queue in self.queues:
                if arg == self.queue_argument.format(queue=queue):
                    return queue
        return None

    def language_of(self, number: str, queue: str) -> str:
        if queue in self.queue_languages:
            return self.queue_languages[queue]
        for prefix, language in self.prefix_languages:
            if number.startswith(prefix):
                return language
        return self.language


def _pairs(name: str, key: str, items: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise Invalid(f"[workspaces.{name}] {key}: expected left=right, got {item!r}")
        pairs.append((left.strip(), right.strip()))
    return pairs


_ENDPOINT = re.compile(r"[A-Za-z0-9_]+/\S+")


def parse_settings(name: str, raw: Mapping[str, Any]) -> AsteriskSettings:
    values = read_settings(SETTINGS, name, raw)
    url: str = values["url"].rstrip("/")
    if not re.match(r"https?://", url):
        raise Invalid(f"[workspaces.{name}] url: expected http://host:port/ari, got {url!r}")
    queues = values["queues"]
    if not queues:
        raise Invalid(f"[workspaces.{name}] queues: at least one queue")
    if "{queue}" not in values["queue_argument"]:
        raise Invalid(f"[workspaces.{name}] queue_argument: must hold {{queue}}")
    for key in ("phone",):
        if not _ENDPOINT.fullmatch(values[key]):
            raise Invalid(f"[workspaces.{name}] {key}: expected an endpoint such as PJSIP/alice")
    phones = dict(_pairs(name, "agent_phones", values["agent_phones"]))
    for agent, endpoint in phones.items():
        if not _ENDPOINT.fullmatch(endpoint):
            raise Invalid(
                f"[workspaces.{name}] agent_phones: {agent}: expected an endpoint such as PJSIP/bob"
            )
    dial = values["callback_dial"]
    if dial and "{number}" not in dial:
        raise Invalid(f"[workspaces.{name}] callback_dial: must hold {{number}}")
    prefixes, by_queue = [], {}
    for left, language in _pairs(name, "languages", values["languages"]):
        if left.startswith("+") or left[:1].isdigit():
            prefixes.append((left, language))
        else:
            by_queue[left] = language
    return AsteriskSettings(
        url=url,
        user=values["user"],
        phone=values["phone"],
        app=values["app"],
        queues=queues,
        queue_argument=values["queue_argument"],
        agent_phones=phones,
        callback_dial=dial,
        ring_seconds=values["ring_seconds"],
        moh_class=values["moh_class"],
        language=values["language"],
        prefix_languages=tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
        queue_languages=by_queue,
        timeout=values["timeout"],
        directory=read_directory(values["directory"], f"[workspaces.{name}]") if values["directory"] else {},
        team=_team(values["team"]),
    )


def _team(value: str) -> str:
    value = value.strip()
    if not value or value.startswith(("postgresql://", "postgres://")):
        return value
    return str(Path(value).expanduser())
