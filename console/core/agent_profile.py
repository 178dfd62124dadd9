"""An agent's profile from the config: skills per channel with a level, languages, seniority, capacity.

    [profile]                      # this console's agent (top-level `agent = "id"` names them)
    seniority = "confirmed"        # new_hire | confirmed | senior
    languages = ["fr", "en"]
    channels = { phone = 2, chat = 3, email = 1 }   # level 1 (basic) .. 3 (expert); a list means level 1
    capacity = { chat = 3 }        # per channel; the rest from model.DEFAULT_CAPACITY

    [team.anna]                    # a supervisor's or a test's whole team: the same keys, plus `name`

Every key has a default: with no `channels`, the new-hire channels (email, by default) at level 1; a new hire given a
live channel keeps only the new-hire ones, with a warning to show (the seeds: new hires handle email only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import DEFAULT_CAPACITY, Agent, Channel, Presence, Seniority, Skills
from .routing import RoutingRules

MAX_LEVEL = 3


@dataclass(frozen=True, slots=True)
class AgentProfile:
    channels: dict[Channel, int] = field(default_factory=lambda: {Channel.EMAIL: 1})
    languages: tuple[str, ...] = ("en",)
    seniority: Seniority = Seniority.CONFIRMED
    capacity: dict[Channel, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    name: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def skills(self) -> Skills:
        return Skills(dict(self.channels), self.languages, self.seniority)

    def to_agent(
        self, agent_id: str, name: str | None = None, presence: Presence = Presence.OFFLINE
    ) -> Agent:
        return Agent(
            id=agent_id,
            name=name or self.name or agent_id,
            skills=self.skills,
            presence=presence,
            capacity=dict(self.capacity),
        )

    @classmethod
    def from_config(cls, data: Mapping[str, Any], rules: RoutingRules | None = None) -> AgentProfile:
        """Read one profile table. Raises ValueError naming the key on a bad value."""
        rules = rules or RoutingRules()
        warnings: list[str] = []
        seniority = _seniority(data.get("seniority", "confirmed"))
        languages = _languages(data.get("languages", ["en"]))
        if "channels" in data:
            channels = _channels(data["channels"])
        else:  # only languages, say: the basic channels (the new-hire ones) at level 1, as for a new hire
            channels = dict.fromkeys(sorted(rules.new_hire_channels), 1)
        if seniority is Seniority.NEW_HIRE:
            dropped = sorted(c.value for c in channels if c not in rules.new_hire_channels)
            if dropped:
                warnings.append(f"new hire: {', '.join(dropped)} left out until confirmed")
                channels = {c: n for c, n in channels.items() if c in rules.new_hire_channels}
        capacity = dict(DEFAULT_CAPACITY)
        for name, value in dict(data.get("capacity", {})).items():
            channel = _channel(name, "capacity")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"profile.capacity.{name} must be a whole number >= 0")
            capacity[channel] = value
        return cls(channels, languages, seniority, capacity, str(data.get("name", "")), tuple(warnings))


def _channel(name: object, key: str) -> Channel:
    try:
        return Channel(str(name).lower())
    except ValueError:
        raise ValueError(f"profile.{key}: unknown channel {name!r}") from None


def _channels(value: object) -> dict[Channel, int]:
    if isinstance(value, list):
        return {_channel(name, "channels"): 1 for name in value}
    if not isinstance(value, Mapping):
        raise ValueError("profile.channels must be a table of levels or a list of channels")
    channels: dict[Channel, int] = {}
    for name, level in value.items():
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"profile.channels.{name} must be a level from 0 to {MAX_LEVEL}")
        if level:
            channels[_channel(name, "channels")] = level
    return channels


def _languages(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError('profile.languages must be a list of language codes, e.g. ["fr", "en"]')
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


def _seniority(value: object) -> Seniority:
    try:
        return Seniority[str(value).strip().upper().replace("-", "_").replace(" ", "_")]
    except KeyError:
        raise ValueError("profile.seniority must be new_hire, confirmed or senior") from None


def team_from_config(data: Mapping[str, Any], rules: RoutingRules | None = None) -> dict[str, AgentProfile]:
    """The `[team]` table: one profile per agent id."""
    team: dict[str, AgentProfile] = {}
    for agent_id, table in dict(data.get("team", {})).items():
        if not isinstance(table, Mapping):
            raise ValueError(f"team.{agent_id} must be a table")
        try:
            team[str(agent_id)] = AgentProfile.from_config(table, rules)
        except ValueError as error:
            raise ValueError(f"team.{agent_id}: {error}") from None
    return team


def profile_of(config_raw: Mapping[str, Any], rules: RoutingRules | None = None) -> AgentProfile | None:
    """This console's `[profile]`, or None when the config has none (the backend's agent row stands)."""
    table = config_raw.get("profile")
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ValueError("profile must be a table")
    return AgentProfile.from_config(table, rules)
