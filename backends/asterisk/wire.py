"""The ARI events the adapter reads, and the fields it relies on, checked on every message that arrives.

A message from Asterisk is untrusted input like any other: one that lacks a field the adapter reads, or has
it with another JSON type, is dropped (and logged) instead of failing deep in the call logic. `READS` is the
adapter's side of ARI's Swagger models (rest-api/api-docs/events.json and channels.json of Asterisk);
tests/adapters/test_asterisk_wire.py checks it against the facts of those models.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

# JSON types by Swagger type name, as the checks see them after json.loads.
JSON_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "string": str,
    "int": int,
    "long": int,
    "boolean": bool,
    "object": dict,
    "Date": str,
    "List[string]": list,
    "Channel": dict,
    "Bridge": dict,
    "CallerID": dict,
    "DialplanCEP": dict,
}

# Event type -> the fields the adapter reads, with their Swagger types. Each is required by the model, except
# where marked optional below (read when present).
READS: Final[dict[str, dict[str, str]]] = {
    "StasisStart": {"args": "List[string]", "channel": "Channel"},
    "StasisEnd": {"channel": "Channel"},
    "ChannelDestroyed": {"channel": "Channel", "cause": "int", "cause_txt": "string"},
    "ChannelVarset": {"variable": "string", "value": "string"},
    "ApplicationReplaced": {},
}
# Fields the adapter reads when the model makes them optional.
OPTIONAL: Final[dict[str, dict[str, str]]] = {"ChannelVarset": {"channel": "Channel"}}
# Every event carries these (the Message and Event base models).
BASE: Final[dict[str, str]] = {"type": "string", "application": "string"}
# What the adapter reads of a Channel (channels.json's Channel, CallerID and DialplanCEP models).
CHANNEL: Final[dict[str, str]] = {"id": "string", "name": "string", "state": "string", "caller": "CallerID"}
CALLER: Final[dict[str, str]] = {"name": "string", "number": "string"}
DIALPLAN: Final[dict[str, str]] = {"app_name": "string", "app_data": "string"}
# ... and of a Bridge (bridges.json), from GET /bridges when rebuilding.
BRIDGE: Final[dict[str, str]] = {"id": "string", "channels": "List[string]"}


def _typed(value: Any, swagger: str) -> bool:
    wanted = JSON_TYPES[swagger]
    if wanted is int and isinstance(value, bool):
        return False
    return isinstance(value, wanted)


def _fields(data: Mapping[str, Any], fields: Mapping[str, str], where: str) -> str | None:
    for name, swagger in fields.items():
        if name not in data:
            return f"{where} has no {name}"
        if not _typed(data[name], swagger):
            return f"{where}.{name} is not a {swagger}"
    return None


def channel_problem(channel: Any, where: str = "channel") -> str | None:
    if not isinstance(channel, dict):
        return f"{where} is not an object"
    problem = _fields(channel, CHANNEL, where) or _fields(channel["caller"], CALLER, f"{where}.caller")
    if problem is None and "dialplan" in channel:
        if not isinstance(channel["dialplan"], dict):
            return f"{where}.dialplan is not a DialplanCEP"
        problem = _fields(channel["dialplan"], DIALPLAN, f"{where}.dialplan")
    if problem is None and "channelvars" in channel and not isinstance(channel["channelvars"], dict):
        problem = f"{where}.channelvars is not an object"
    return problem


def bridge_problem(bridge: Any) -> str | None:
    if not isinstance(bridge, dict):
        return "bridge is not an object"
    found = _fields(bridge, BRIDGE, "bridge")
    if found is None and not all(isinstance(c, str) for c in bridge["channels"]):
        return "bridge.channels holds a non-string"
    return found


def problem(message: Any) -> str | None:
    """Why the adapter cannot read this event (None: it can, or it is a type the adapter does not read)."""
    if not isinstance(message, dict):
        return "not a JSON object"
    if (found := _fields(message, BASE, "event")) is not None:
        return found
    kind = message["type"]
    if kind not in READS:
        return None
    fields = dict(READS[kind])
    for name, swagger in OPTIONAL.get(kind, {}).items():
        if name in message:
            fields[name] = swagger
    if (found := _fields(message, fields, kind)) is not None:
        return found
    for name, swagger in fields.items():
        if swagger == "Channel" and (found := channel_problem(message[name], f"{kind}.{name}")):
            return found
    if kind == "StasisStart" and not all(isinstance(a, str) for a in message["args"]):
        return "StasisStart.args holds a non-string"
    return None


@dataclass(frozen=True, slots=True)
class Channel:
    """What the adapter keeps of an ARI Channel."""

    id: str
    name: str
    state: str
    caller_name: str
    caller_number: str
    app_name: str
    app_data: str
    messages: str  # the STANDARDISTE_MESSAGES channel variable ("" when unset)

    @property
    def stasis_args(self) -> list[str] | None:
        """The application and arguments when the channel is in Stasis, else None."""
        if self.app_name != "Stasis":
            return None
        return self.app_data.split(",")


MESSAGES_VARIABLE: Final = "STANDARDISTE_MESSAGES"


def channel_of(data: Mapping[str, Any]) -> Channel:
    dialplan = data.get("dialplan") or {}
    variables = data.get("channelvars") or {}
    said = variables.get(MESSAGES_VARIABLE, "")
    return Channel(
        id=data["id"],
        name=data["name"],
        state=data["state"],
        caller_name=data["caller"]["name"],
        caller_number=data["caller"]["number"],
        app_name=str(dialplan.get("app_name", "")),
        app_data=str(dialplan.get("app_data", "")),
        messages=said if isinstance(said, str) else "",
    )
