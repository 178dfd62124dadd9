"""Every ARI event the Asterisk adapter reads, checked against the models of Asterisk's own Swagger.

The facts below were read from rest-api/api-docs/events.json, channels.json and bridges.json of the
asterisk/asterisk repository (Swagger 1.3, the version Asterisk 22 ships): each model's fields the adapter
relies on, their type and whether the model requires them. Asterisk is GPL: the facts are written here, the
files are not copied. The tests check that the adapter's reading (backends/asterisk/wire.py) asks for no
field the model does not give in that type, and that the events a real Asterisk sends in a whole call (a
caller, an agent's phone that answers, one that does not, hang-ups) have those fields in those types.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest
import websockets
from asterisk_server import AsteriskServer, asterisk
from standardiste.backends.asterisk import wire

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

# Model -> field -> (Swagger type, required), from the Swagger files named above.
FACTS: dict[str, dict[str, tuple[str, bool]]] = {
    # events.json: Message is the base of every message; Event (a subtype) adds application and timestamp.
    "Message": {"type": ("string", True), "asterisk_id": ("string", False)},
    "Event": {"application": ("string", True), "timestamp": ("Date", True)},
    "StasisStart": {
        "args": ("List[string]", True),
        "channel": ("Channel", True),
        "replace_channel": ("Channel", False),
    },
    "StasisEnd": {"channel": ("Channel", True)},
    "ChannelDestroyed": {
        "cause": ("int", True),
        "cause_txt": ("string", True),
        "tech_cause": ("int", False),
        "channel": ("Channel", True),
    },
    "ChannelVarset": {"variable": ("string", True), "value": ("string", True), "channel": ("Channel", False)},
    "ApplicationReplaced": {},
    # channels.json
    "Channel": {
        "id": ("string", True),
        "protocol_id": ("string", True),
        "name": ("string", True),
        "state": ("string", True),
        "caller": ("CallerID", True),
        "connected": ("CallerID", True),
        "accountcode": ("string", True),
        "dialplan": ("DialplanCEP", True),
        "creationtime": ("Date", True),
        "language": ("string", True),
        "channelvars": ("object", False),
    },
    "CallerID": {"name": ("string", True), "number": ("string", True)},
    "DialplanCEP": {
        "context": ("string", True),
        "exten": ("string", True),
        "priority": ("long", True),
        "app_name": ("string", True),
        "app_data": ("string", True),
    },
    # bridges.json
    "Bridge": {
        "id": ("string", True),
        "technology": ("string", True),
        "bridge_type": ("string", True),
        "bridge_class": ("string", True),
        "creator": ("string", True),
        "name": ("string", True),
        "channels": ("List[string]", True),
        "creationtime": ("Date", True),
    },
}
# The Channel model's state values (channels.json, `state` allowableValues).
CHANNEL_STATES = {
    "Down",
    "Rsrved",
    "OffHook",
    "Dialing",
    "Ring",
    "Ringing",
    "Up",
    "Busy",
    "Dialing Offhook",
    "Pre-ring",
    "Unknown",
}
# Every event type of events.json's Event subTypes that the adapter reads must be one of these.
EVENT_TYPES = {
    "StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelVarset", "ApplicationReplaced", "ChannelCreated",
    "ChannelStateChange", "ChannelHangupRequest", "ChannelEnteredBridge", "ChannelLeftBridge", "Dial",
    "ChannelDialplan", "ChannelCallerId", "ChannelUserevent", "ChannelHold", "ChannelUnhold",
    "ChannelConnectedLine", "BridgeCreated", "BridgeDestroyed", "ApplicationRegistered", "ApplicationUnregistered",
}  # fmt: skip


def _check_reading(fields: dict[str, str], model: str, *, optional: frozenset[str] = frozenset()) -> None:
    facts = FACTS[model]
    for name, swagger in fields.items():
        assert name in facts, f"{model} has no field {name} in the Swagger model"
        kind, required = facts[name]
        assert kind == swagger, f"{model}.{name} is {kind} in the model, read as {swagger}"
        assert required or name in optional, f"{model}.{name} is optional in the model but read as required"


def test_the_adapter_reads_only_what_the_models_give_in_their_types() -> None:
    assert set(wire.READS) <= EVENT_TYPES
    for event, fields in wire.READS.items():
        _check_reading(fields, event)
    for event, fields in wire.OPTIONAL.items():
        for name, swagger in fields.items():
            assert FACTS[event][name] == (swagger, False), f"{event}.{name}"
    _check_reading({k: v for k, v in wire.BASE.items() if k == "type"}, "Message")
    _check_reading({k: v for k, v in wire.BASE.items() if k != "type"}, "Event")
    _check_reading(wire.CHANNEL, "Channel")
    _check_reading(wire.CALLER, "CallerID")
    _check_reading(wire.DIALPLAN, "DialplanCEP")
    _check_reading(wire.BRIDGE, "Bridge")


def _conforms(value: Any, model: str) -> None:
    """`value` has every required field of `model` in its type, and each optional one present in its type."""
    for name, (kind, required) in FACTS[model].items():
        if name not in value:
            assert not required, f"{model} lacks the required {name}: {value}"
            continue
        if kind in FACTS:
            _conforms(value[name], kind)
            continue
        assert wire._typed(value[name], kind), f"{model}.{name} = {value[name]!r} is not a {kind}"
        if kind == "List[string]":
            assert all(isinstance(v, str) for v in value[name])


async def test_the_events_of_a_whole_call_have_the_fields_the_models_require(
    asterisk: AsteriskServer,
) -> None:
    url = asterisk.url.replace("http://", "ws://")
    seen: list[dict[str, Any]] = []
    auth = (asterisk.user, asterisk.password)
    async with (
        websockets.connect(
            f"{url}/events?app={asterisk.app}&api_key={asterisk.user}:{asterisk.password}"
        ) as ws,
        httpx.AsyncClient(base_url=asterisk.url, auth=auth) as ari,
    ):

        async def until(kind: str, channel: str = "") -> dict[str, Any]:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                seen.append(message)
                if message["type"] == kind and (not channel or message["channel"]["id"] == channel):
                    return message

        await asyncio.to_thread(asterisk.call, "+33123456789", "Alice Martin")
        start = await until("StasisStart")
        caller = start["channel"]["id"]
        (
            await ari.post(
                f"/channels/{caller}/variable", params={"variable": wire.MESSAGES_VARIABLE, "value": "hi"}
            )
        ).raise_for_status()
        await until("ChannelVarset", caller)
        (await ari.post("/channels", params={"endpoint": "Local/noanswer@agent-phones", "app": asterisk.app, "appArgs": f"agent,{caller},carol", "channelId": f"{caller}-agent1", "timeout": 1})).raise_for_status()  # fmt: skip
        await until("ChannelDestroyed", f"{caller}-agent1")
        (await ari.post("/channels", params={"endpoint": "Local/alice@agent-phones", "app": asterisk.app, "appArgs": f"agent,{caller},alice", "channelId": f"{caller}-agent2"})).raise_for_status()  # fmt: skip
        await until("StasisStart", f"{caller}-agent2")
        (await ari.post(f"/bridges/{asterisk.app}-{caller}", params={"type": "mixing"})).raise_for_status()
        (await ari.post(f"/bridges/{asterisk.app}-{caller}/addChannel", params={"channel": f"{caller},{caller}-agent2"})).raise_for_status()  # fmt: skip
        bridges = (await ari.get("/bridges")).json()
        channels = (await ari.get("/channels")).json()
        (await ari.delete(f"/channels/{caller}")).raise_for_status()
        await until("StasisEnd", caller)
        (await ari.delete(f"/channels/{caller}-agent2")).raise_for_status()
        await until("StasisEnd", f"{caller}-agent2")

    read = [m for m in seen if m["type"] in wire.READS]
    assert {m["type"] for m in read} >= {"StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelVarset"}
    assert {m["type"] for m in seen} <= EVENT_TYPES | {"ChannelTalkingStarted", "ChannelTalkingFinished"}
    for message in read:
        _conforms(message, "Message")
        _conforms(message, "Event")
        _conforms(message, message["type"])
        assert wire.problem(message) is None, message
        for key in ("channel", "replace_channel"):
            if key in message:
                assert message[key]["state"] in CHANNEL_STATES
    for channel in channels:
        _conforms(channel, "Channel")
        assert wire.channel_problem(channel) is None
    assert bridges
    for bridge in bridges:
        _conforms(bridge, "Bridge")
        assert wire.bridge_problem(bridge) is None
    await asyncio.to_thread(asterisk.hang_up_all)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda m: m.pop("args"), "no args"),
        (lambda m: m.__setitem__("args", "queue-sales"), "args is not a List[string]"),
        (lambda m: m["channel"].pop("caller"), "no caller"),
        (lambda m: m["channel"]["caller"].__setitem__("number", 33123456789), "number is not a string"),
        (lambda m: m["channel"].__setitem__("dialplan", "Stasis"), "dialplan is not"),
        (lambda m: m.pop("application"), "no application"),
        (lambda m: m.__setitem__("args", ["queue-sales", 7]), "non-string"),
    ],
)
def test_an_event_without_what_the_adapter_reads_is_dropped(change: Any, said: str) -> None:
    good = {
        "type": "StasisStart",
        "application": "standardiste",
        "timestamp": "2026-12-02T04:10:47.344+0000",
        "args": ["queue-sales"],
        "channel": {
            "id": "1.1",
            "name": "Local/101@from-customer-ring-00000000;2",
            "state": "Ring",
            "caller": {"name": "Alice", "number": "+33123456789"},
            "dialplan": {
                "context": "c",
                "exten": "101",
                "priority": 1,
                "app_name": "Stasis",
                "app_data": "x",
            },
        },
    }
    assert wire.problem(good) is None
    bad = copy.deepcopy(good)
    change(bad)
    found = wire.problem(bad)
    assert found is not None and said in found
