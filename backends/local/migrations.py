"""The workspace's schema version, and the steps that bring an older workspace up to it.

`meta.schema_version` says which version of the tables a workspace holds. On open (workspace.py): a
workspace newer than this code is refused (`SchemaTooNew`: an older console must not write rows it does not
understand); an older one is migrated by the steps below, each in the opening transaction, under the
writers' lock, so two consoles starting at once migrate it once. The schema files create the newest tables
for a new workspace; a step changes an existing one (for example `ALTER TABLE ... ADD COLUMN`), written in
the SQL both databases speak, or one text per dialect.
"""

from __future__ import annotations

from typing import Any

from ..local_queue_order import QUEUE_INDEX

# The newest version: the one schema.sql and schema_postgres.sql create. 2: full-text search on PostgreSQL
# (search_postgres.py; the file's FTS5 index keeps a version of its own, search.py). 3: the queue's order as an
# index (backends/local_queue_order.py), so the first screenful is read before the rest.
CURRENT = 3
SCHEMA_FILE = {"sqlite": "schema.sql", "postgres": "schema_postgres.sql"}
# version -> statements that take a workspace from version - 1 to it. Version 1 is the first.
STEPS: dict[int, dict[str, tuple[str, ...]]] = {3: {"sqlite": (QUEUE_INDEX,), "postgres": (QUEUE_INDEX,)}}


def stored_version(db: Any, dialect: str) -> int | None:
    """The version a workspace holds; None for a new one (no tables yet)."""
    if dialect == "postgres":
        exists = db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
    else:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if not exists:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def migrate(db: Any, dialect: str, stored: int | None, current: int | None = None) -> list[int]:
    """Apply the steps after `stored` (a new workspace has none to apply) and record `current` (default:
    CURRENT). Returns the versions applied. Call inside a write transaction."""
    current = CURRENT if current is None else current
    applied: list[int] = []
    if stored is not None:
        for version in range(stored + 1, current + 1):
            for statement in STEPS.get(version, {}).get(dialect, ()):
                db.execute(statement)
            applied.append(version)
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(current),),
    )
    return applied


__all__ = ["CURRENT", "SCHEMA_FILE", "STEPS", "migrate", "stored_version"]
