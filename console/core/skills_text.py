"""The supervisor's one-line skills text: `phone=2 chat=1 languages=en,fr capacity.chat=3`, read and written."""

from __future__ import annotations

from .model import Agent, Channel, Skills


def format_skills(agent: Agent) -> str:
    """The line the skills dialog starts from: `phone=2 chat=1 languages=en,fr capacity.chat=3`."""
    parts = [f"{ch.value}={level}" for ch, level in agent.skills.channels.items() if level > 0]
    parts.append("languages=" + ",".join(agent.skills.languages))
    parts += [f"capacity.{ch.value}={n}" for ch, n in agent.capacity.items()]
    return " ".join(parts)


def parse_skills(text: str, agent: Agent) -> tuple[Skills, dict[Channel, int]]:
    """Apply `channel=level` (0-3, 0 removes), `languages=a,b` and `capacity.channel=n` to the agent's
    current skills and capacity; anything not named stays. Raises ValueError saying which word is wrong."""
    levels = dict(agent.skills.channels)
    languages = agent.skills.languages
    capacity = dict(agent.capacity)
    for word in text.split():
        key, sep, value = word.partition("=")
        key = key.strip().lower()
        try:
            if not sep:
                raise ValueError
            if key == "languages":
                languages = tuple(dict.fromkeys(x.strip().lower() for x in value.split(",") if x.strip()))
                if not languages:
                    raise ValueError
            elif key.startswith("capacity."):
                amount = int(value)
                if amount < 0:
                    raise ValueError
                capacity[Channel(key.removeprefix("capacity."))] = amount
            else:
                level = int(value)
                if not 0 <= level <= 3:
                    raise ValueError
                levels[Channel(key)] = level
        except ValueError:
            raise ValueError(
                f"cannot read {word!r}: use phone=2, languages=en,fr or capacity.chat=3"
            ) from None
    skills = Skills(
        channels={ch: n for ch, n in levels.items() if n > 0},
        languages=languages,
        seniority=agent.skills.seniority,
    )
    return skills, capacity
