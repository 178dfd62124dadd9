"""The shape of a team's shared queue (team.py), versioned in `asterisk_schema` and migrated when a console
opens it: in the workspace's write transaction, so two consoles starting at once migrate it once.
"""

from __future__ import annotations

from typing import Any

# Each step takes the shape one version further; a team's database made before the versions (the first
# step's tables, no version row) is at 0 too: the first step's statements are no-ops there.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE IF NOT EXISTS asterisk_queue ("
        " pbx TEXT NOT NULL, channel TEXT NOT NULL, args TEXT NOT NULL, caller_name TEXT NOT NULL,"
        " caller_number TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, owner TEXT,"
        " changed_at DOUBLE PRECISION NOT NULL, said TEXT NOT NULL DEFAULT '', PRIMARY KEY (pbx, channel))",
        "CREATE TABLE IF NOT EXISTS asterisk_leases ("
        " pbx TEXT PRIMARY KEY, holder TEXT NOT NULL, until_at DOUBLE PRECISION NOT NULL)",
    ),
    (
        "ALTER TABLE asterisk_queue ADD COLUMN session TEXT",
        "ALTER TABLE asterisk_queue ADD COLUMN answered_at DOUBLE PRECISION",
        "CREATE TABLE IF NOT EXISTS asterisk_members ("
        " pbx TEXT NOT NULL, session TEXT NOT NULL, agent TEXT NOT NULL, until_at DOUBLE PRECISION NOT NULL,"
        " PRIMARY KEY (pbx, session))",
    ),
)
VERSION = len(MIGRATIONS)


def migrate(ws: Any) -> None:
    """Take the team's tables in `ws` (a local `Workspace`, file or PostgreSQL) to `VERSION`; refuse a
    newer shape (a newer console's)."""
    with ws.transaction():  # the workspace's write lock
        ws.db.execute("CREATE TABLE IF NOT EXISTS asterisk_schema (version INTEGER NOT NULL)")
        found = ws.db.execute("SELECT max(version) FROM asterisk_schema").fetchone()
        version = int(found[0]) if found and found[0] is not None else 0
        if version > VERSION:
            raise RuntimeError(
                f"the team's queue is at version {version}, newer than this console's {VERSION}"
            )
        for step in MIGRATIONS[version:]:
            for statement in step:
                ws.db.execute(statement)
        if version < VERSION:
            ws.db.execute("DELETE FROM asterisk_schema")
            ws.db.execute("INSERT INTO asterisk_schema (version) VALUES (?)", (VERSION,))
