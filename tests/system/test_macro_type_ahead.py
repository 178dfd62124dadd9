"""The macro form typed ahead: each value lands in the field it was typed for (a real console on a pty).

Before, enter moved the focus to the next field only after the key had gone, so the letters typed right after
it landed in the field before: "FR123Colissimo" as the order number and nothing as the carrier.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel


@pytest.mark.parametrize("gap", [0.0, 0.015], ids=["burst", "typed"])
def test_values_typed_ahead_in_the_macro_form_land_in_their_own_fields(tmp_path: Path, gap: float) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Where is my parcel?", age=600)], now=time.time())
    console = PtyConsole(tmp_path, db, config='agent = "alice"\nname = "Alice"\nundo_seconds = 0\nbell = false\n')
    try:
        console.read_until("Where is my parcel?")
        console.write("\r")
        console.read_until("customer0@example.com")
        # The "where is my shipment" macro, its four values, then ctrl+s sends.
        keys = "Mwism\rFR123\rColissimo\r6A123\rhttps://t.example/6A123\r\x13"
        if gap:
            console.type(keys, gap)
        else:
            console.write(keys)
        wait(lambda: console.outbound() != [], 20, "no reply was sent")
        [(conversation, body)] = console.outbound()
        assert conversation == local_id(mail)
        assert (
            "Your order FR123 has been shipped and is now with Colissimo, tracking number 6A123. "
            "You can follow it here: https://t.example/6A123"
        ) in body.replace("\n", " "), body
    finally:
        console.close()
