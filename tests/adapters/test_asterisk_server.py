"""The test Asterisk itself (tests/asterisk_server.py): it answers ARI on 127.0.0.1 only, with the test user's
password and no other, and its dialplan puts a customer's call into the Stasis application ringing."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from asterisk_server import APP, AsteriskServer, asterisk

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]


def test_ari_answers_the_user_and_refuses_a_wrong_password(asterisk: AsteriskServer) -> None:
    info = asterisk.ari("GET", "/asterisk/info")
    assert info["system"]["version"].startswith("22.")
    wrong = httpx.get(f"{asterisk.url}/asterisk/info", auth=(asterisk.user, "wrong"), timeout=5)
    assert wrong.status_code == 401
    assert "127.0.0.1" in asterisk.cli("http show status")
    loaded = asterisk.cli("module show like chan_")
    assert "chan_pjsip.so" in loaded and "chan_iax2.so" not in loaded  # iax2 would listen on 0.0.0.0:4569


async def test_a_customer_call_enters_the_application_ringing_with_its_queue(
    asterisk: AsteriskServer,
) -> None:
    url = asterisk.url.replace("http://", "ws://")
    async with websockets.connect(
        f"{url}/events?app={APP}&api_key={asterisk.user}:{asterisk.password}"
    ) as events:
        await asyncio.to_thread(asterisk.call, "+33123456789", "Alice Martin", "queue-support")
        start = None
        while start is None:
            message = json.loads(await asyncio.wait_for(events.recv(), 5))
            if message["type"] == "StasisStart":
                start = message
    assert start["args"] == ["queue-support"]
    assert start["channel"]["state"] == "Ring"
    assert start["channel"]["caller"] == {"name": "Alice Martin", "number": "+33123456789"}
    await asyncio.to_thread(asterisk.hang_up_all)
