"""The workspace standardiste keeps itself: one SQLite file shared by every console on this machine, or the
same tables on a PostgreSQL server shared by a team's machines (database.py, postgres.py; docs/team.md).

How it maps onto the contract (backends/base.py): everything is native, every channel and every command.
snapshot = the open conversations and the last day's closed ones; events = the `changes` table tailed by
sequence number, so several processes on one file see each other's changes (on PostgreSQL a NOTIFY wakes
the reader at once: listener.py), and a reconnect resumes from a new snapshot's sequence; a command's key is kept in the `commands` table, in the command's own transaction.
Ids are `local:<row>` whatever the workspace table is called.
"""

from . import migrations
from .backend import LocalBackend, default_agent
from .rows import local_id, qualify
from .workspace import Workspace

__all__ = ["LocalBackend", "Workspace", "default_agent", "local_id", "migrations", "qualify"]
