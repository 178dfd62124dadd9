"""What the config file may say, so that what it says wrongly is warned about instead of silently ignored.

A mistyped key (`undo_second`, `[profil]`), a theme that does not exist or a `[keys]` entry naming no binding
would otherwise do nothing at all, and the user would think the console ignores them. Load time checks the keys
(`unknown_keys`); the app, which knows its themes and bindings (ui/binding_ids.py), checks those
(`unknown_names`). Both give
sentences for a notice at start and a line in the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .model import Channel

# The top-level keys and tables of config.toml (README "Configuration").
TOP_LEVEL = frozenset(
    {
        "agent",
        "name",
        "theme",
        "undo_seconds",
        "bell",
        "supervisor",
        "keys",
        "sla",
        "dispositions",
        "routing",
        "presence",
        "profile",
        "team",
        "alerts",
        "workspaces",
    }
)
PROFILE = frozenset({"seniority", "languages", "channels", "capacity", "name"})
# The keys each table's reader looks at (routing.py, presence.py, sla.py); [alerts] refuses unknown ones itself.
TABLES: dict[str, frozenset[str]] = {
    "routing": frozenset(
        {
            "order",
            "breach_rise",
            "breach_ceiling",
            "priority_weight",
            "new_hire_channels",
            "blocks",
            "parked_states",
            "wrap_up_blocks",
            "offer_timeout",
            "decline_cooldown",
            "scan_limit",
            "push",
        }
    ),
    "presence": frozenset({"idle_away", "reasons", "return_on_input", "heartbeat", "gone_after"}),
    "sla": frozenset({*(channel.value for channel in Channel), "tags", "priority_factors", "warning"}),
}
def unknown_keys(raw: Mapping[str, Any]) -> list[str]:
    """Sentences naming the keys of the file that nothing reads."""
    warnings = [f"unknown key {key!r}" for key in raw if key not in TOP_LEVEL]
    for table_name, known in TABLES.items():
        table = raw.get(table_name)
        if isinstance(table, Mapping):
            warnings += [f"unknown key '{table_name}.{key}'" for key in table if key not in known]
    profile = raw.get("profile")
    if isinstance(profile, Mapping):
        warnings += [f"unknown key 'profile.{key}'" for key in profile if key not in PROFILE]
    team = raw.get("team")
    if isinstance(team, Mapping):
        for agent, table in team.items():
            if isinstance(table, Mapping):
                warnings += [f"unknown key 'team.{agent}.{key}'" for key in table if key not in PROFILE]
    return warnings


def unknown_names(theme: str, keys: Iterable[str], themes: Iterable[str], ids: Iterable[str]) -> list[str]:
    """Sentences naming a theme that does not exist and `[keys]` entries that name no binding."""
    themes = set(themes)
    ids = set(ids)
    warnings = []
    if theme not in themes:
        warnings.append(f"unknown theme {theme!r} (ctrl+p lists the themes)")
    warnings += [f"[keys]: unknown binding id {key!r} (? lists them)" for key in keys if key not in ids]
    return warnings
