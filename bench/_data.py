"""A workspace file with N conversations, for the benchmarks (fast: one transaction, executemany).

The simulator's `--backfill` makes richer data; this generator only needs realistic shapes and spreads:
all channels in the seeds' proportions, a dozen languages, a day of creation times, most items open.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from standardiste.backends.local import Workspace
from standardiste.console.core.model import INITIAL_STATE, Channel
from standardiste.console.core.sla import SlaPolicy

LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv", "da", "fi", "nb")
CHANNELS = (
    (Channel.PHONE,) * 40
    + (Channel.CHAT,) * 30
    + (Channel.EMAIL,) * 20
    + (
        Channel.CALLBACK,
        Channel.FORM,
        Channel.SOCIAL,
    )
    * 3
    + (Channel.EMAIL,)
)
SUBJECTS = (
    "Where is my parcel?",
    "Refund for order",
    "Return label",
    "Payment declined",
    "Photo book quality",
)
FIRST = ("Anna", "Jean", "María", "Luca", "Emma", "John", "Sven", "Ola", "Zofia", "Mikko", "Ana", "Lars")
LAST = (
    "Müller",
    "Dupont",
    "García",
    "Rossi",
    "de Vries",
    "Smith",
    "Larsson",
    "Nordmann",
    "Nowak",
    "Virtanen",
)


def make_workspace(path: Path | str, count: int, *, seed: int = 1, now: float | None = None) -> Path | str:
    rng = random.Random(seed)
    now = time.time() if now is None else now
    sla = SlaPolicy()
    ws = Workspace(path)
    rows = []
    customers = []
    for i in range(count):
        channel = rng.choice(CHANNELS)
        language = rng.choice(LANGUAGES)
        created = now - rng.random() * 8 * 3600
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        customer_id = f"bench-{i % (count // 3 + 1)}"
        customers.append((customer_id, name, language))
        rows.append(
            (
                channel.value,
                INITIAL_STATE[channel].value,
                f"{rng.choice(SUBJECTS)} #{100000 + i}",
                customer_id,
                name,
                language,
                rng.choice(("orders", "returns", "payments", "general")),
                rng.choice((0, 1, 1, 1, 2, 3)),
                "refund" if rng.random() < 0.05 else "",
                created,
                created,
                created,
                sla.due_at(channel, created),
            )
        )
    with ws.transaction():
        ws.db.executemany(
            "INSERT INTO customers (id, name, language) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", customers
        )
        ws.db.executemany(
            "INSERT INTO conversations (channel, state, subject, customer_id, customer_name, language, queue, "
            "priority, tags, created_at, updated_at, last_customer_at, sla_due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    ws.close()
    return path
