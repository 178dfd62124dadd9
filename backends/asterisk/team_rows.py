"""What a team's shared queue holds (team.py): the states of a call's row, the row as a console reads it,
and the SQL conditions the claims share (team_claims.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WAITING, TAKEN, ABANDONED, ENDED = "waiting", "taken", "abandoned", "ended"
# Handed by its taker to another agent (a transfer), for that agent's console to take.
OFFERED = "offered"
# An offer nobody took in this long (the agent's console gone meanwhile) goes back to the team.
OFFER_SECONDS = 5.0
# How long a lease or a console's session lasts unrenewed (teamwork.py renews them): a console that died
# hands the customers' application on, and the calls it was ringing for go back to the team, after this.
LEASE_SECONDS = 2.0
# Ended rows stay readable this long, so that a console polling less often still sees how a call ended.
KEEP_ENDED_SECONDS = 120.0
# Where a write tells the consoles on PostgreSQL that the queue changed (the payload: the pbx).
NOTIFY_CHANNEL = "standardiste_asterisk"
# The claim's console is not alive: no member row of its session renewed lately (`?` = now).
CLAIMER_DEAD = (
    "NOT EXISTS (SELECT 1 FROM asterisk_members WHERE asterisk_members.pbx = asterisk_queue.pbx"
    " AND asterisk_members.session = asterisk_queue.session AND asterisk_members.until_at >= ?)"
)
# A claim the holder gives back: a dead console's whose phone never answered, or an offer not taken.
TO_GIVE_BACK = (
    f"((state = '{TAKEN}' AND answered_at IS NULL AND {CLAIMER_DEAD})"
    f" OR (state = '{OFFERED}' AND changed_at < ?))"
)
COLUMNS = "channel, args, caller_name, caller_number, created_at, state, owner, said, session, answered_at"


@dataclass(frozen=True, slots=True)
class Row:
    channel: str
    args: tuple[str, ...]
    caller_name: str
    caller_number: str
    created_at: float
    state: str
    owner: str | None
    # What the customer said while waiting (the channel variable STANDARDISTE_MESSAGES), as the holder saw it.
    said: str = ""
    session: str | None = None  # the console that claimed it
    answered_at: float | None = None  # its taker's phone answered

    @property
    def is_callback(self) -> bool:
        return self.channel.startswith("cb-")


def row_of(found: tuple[Any, ...]) -> Row:
    channel, args, name, number, created, state, owner, said, session, answered = found
    return Row(channel, tuple(args.split(",")), name, number, created, state, owner, said, session, answered)
