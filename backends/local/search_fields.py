"""The search's fields (`lang:de`, `state:solved`, `tag:refund`...) as SQL, and fields alone planned over indexes.

`clauses` turns a query's fields into SQL over `conversations c`, one `Clause` per field, written once for
SQLite and PostgreSQL (search.py joins them for both). On the file, each field that an index can find also
says how: one `Walk` per value, which reads that value's conversations newest first from an index of
(value, created_at, id) and stops at the limit, or, for a tag or a piece of a customer's name, which lists
the conversations that may pass from a word index of that column (search_columns.py): a B-tree cannot
find a tag in a comma-separated list, nor a piece inside a name.

Fields alone (`newest`) start from the field that the fewest conversations pass, counted up to `CAP` in
its index: at a million conversations, an old `state:solved` or a value being typed (`lang:d`, passes none)
must not read every conversation. Results stay exact: newest first, every other field checked on each row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...console.core.model import Priority
from ...console.core.search_query import SearchQuery
from ...console.core.search_text import day_start
from .search_columns import name_match, tag_match

# A field passed by fewer conversations than this (counted in its index, which stops there) leads; a tag or
# a customer leads only then, as a word index lists its conversations in id order, to be sorted (a B-tree
# walk is already sorted, and stops at the limit).
CAP = 5_000
# Fields alone with no index to lead: the newest RECENT conversations are looked at first.
RECENT = 20_000
# Several fields each passed by CAP conversations or more: the one that leads is the rarest in this many.
SAMPLE = 500

# Created on every open (IF NOT EXISTS): at a million conversations, about a second each the first time.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS conversations_search_state ON conversations (state, created_at, id)",
    "CREATE INDEX IF NOT EXISTS conversations_search_language ON conversations (lower(language), created_at, id)",
    "CREATE INDEX IF NOT EXISTS conversations_search_channel ON conversations (channel, created_at, id)",
    "CREATE INDEX IF NOT EXISTS conversations_search_queue ON conversations (lower(queue), created_at, id)",
    "CREATE INDEX IF NOT EXISTS conversations_search_priority ON conversations (priority, created_at, id)",
    "CREATE INDEX IF NOT EXISTS conversations_search_owner ON conversations (lower(assignee), created_at, id)",
    # Snoozed now: few, of the conversations whose snooze is set at all.
    "CREATE INDEX IF NOT EXISTS conversations_search_snoozed ON conversations (snoozed_until) "
    "WHERE snoozed_until IS NOT NULL",
)


@dataclass(frozen=True, slots=True)
class Walk:
    """One value of a field read from its index: `sql` holds for exactly the conversations of that value
    (a word index's walk for a superset: the field's clause checks each one). `ordered` when the index
    yields them newest first."""

    index: str  # a B-tree index of conversations, or "" for a word index (`fts`)
    sql: str
    args: tuple[Any, ...]
    ordered: bool = True
    fts: str = ""  # search_columns.py's table that lists the conversations, with `args[0]` to match


@dataclass(slots=True)
class Clause:
    """One field of the query as SQL over `conversations c`, with the walks that find its conversations
    (none when no index can: `customer:` matches inside names)."""

    sql: str
    args: list[Any]
    walks: list[Walk] = field(default_factory=list)
    dates: bool = False  # after:/before:, which every index of (value, created_at, id) also narrows


def clauses(query: SearchQuery, *, me: str | None, now: float) -> list[Clause]:
    """One clause per field of `query`, with the words of views.py's `matcher`; the dates last."""
    found: list[Clause] = []
    for name, values in query.fields.items():
        found.append(_clause(name, values, me=me, now=now))
    dates, bounds = [], []
    if query.after is not None:
        dates.append("c.created_at >= ?")
        bounds.append(day_start(query.after))
    if query.before is not None:
        dates.append("c.created_at < ?")
        bounds.append(day_start(query.before))
    if dates:
        sql = " AND ".join(dates)
        found.append(Clause(sql, bounds, [Walk("conversations_created", sql, tuple(bounds))], dates=True))
    return found


def _equal(index: str, expression: str, values: Sequence[Any]) -> Clause:
    walks = [Walk(index, f"{expression} = ?", (value,)) for value in values]
    return Clause(f"{expression} IN ({','.join('?' * len(values))})", list(values), walks)


def _clause(name: str, values: list[str], *, me: str | None, now: float) -> Clause:
    if name == "lang":
        return _equal("conversations_search_language", "lower(c.language)", values)
    if name == "channel":
        return _equal("conversations_search_channel", "c.channel", values)
    if name == "queue":
        return _equal("conversations_search_queue", "lower(c.queue)", values)
    if name == "prio":
        return _equal(
            "conversations_search_priority", "c.priority", [int(Priority[v.upper()]) for v in values]
        )
    if name == "state":
        states = [v for v in values if v != "snoozed"]
        clause = _equal("conversations_search_state", "c.state", states) if states else Clause("", [])
        parts = [clause.sql] if states else []
        if "snoozed" in values:  # as views.py: snoozed now, whatever the state
            parts.append("(c.snoozed_until IS NOT NULL AND c.snoozed_until > ?)")
            clause.args.append(now)
            clause.walks.append(
                Walk("conversations_search_snoozed", "c.snoozed_until > ?", (now,), ordered=False)
            )
        clause.sql = "(" + " OR ".join(parts) + ")"
        return clause
    if name == "tag":
        clause = Clause(
            "(" + " OR ".join("instr(',' || c.tags || ',', ?) > 0" for _ in values) + ")",
            [f",{v}," for v in values],
        )
        return _looked_up(clause, "search_tags", [tag_match(v) for v in values])
    if name == "owner":
        parts, args, walks = [], [], []
        for value in values:
            if value in ("none", "nobody"):
                parts.append("lower(c.assignee) IS NULL")
                walks.append(Walk("conversations_search_owner", "lower(c.assignee) IS NULL", ()))
            else:
                who = (me or "").lower() if value == "me" else value
                parts.append("lower(c.assignee) = ?")
                args.append(who)
                walks.append(Walk("conversations_search_owner", "lower(c.assignee) = ?", (who,)))
        return Clause("(" + " OR ".join(parts) + ")", args, walks)
    if name == "customer":
        clause = Clause(
            "(" + " OR ".join("instr(lower(c.customer_name), ?) > 0" for _ in values) + ")", list(values)
        )
        return _looked_up(clause, "search_names", [name_match(v) for v in values])
    raise ValueError(f"no SQL for the field {name!r}")  # search_query.FIELDS and this list go together


def _looked_up(clause: Clause, table: str, matches: list[str | None]) -> Clause:
    """The clause with a walk per value through a word index, unless one value cannot be looked up there
    (then none leads: the clause is an OR, and one value unlisted would be lost)."""
    if all(matches):
        clause.walks = [
            Walk("", f"c.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)", (m,), False, table)
            for m in matches
        ]
    return clause


def where(found: Sequence[Clause]) -> tuple[str, list[Any]]:
    """The clauses joined with AND, and their arguments."""
    return " AND ".join(c.sql for c in found), [a for c in found for a in c.args]


# Fields alone -----------------------------------------------------------------------------------------------

_SELECT = "SELECT c.id, c.subject, c.customer_name, c.created_at FROM conversations c"
Row = tuple[int, str, str, float]


def newest(db: Any, found: list[Clause], limit: int) -> list[Row]:
    """The `limit` newest conversations that pass every clause, newest first (SQLite)."""
    counts = [(_count(db, clause, found), n) for n, clause in enumerate(found) if clause.walks]
    if any(count == 0 for count, _ in counts):
        return []  # one field that no conversation passes: nothing passes them all
    small = [(count, n) for count, n in counts if count < CAP]
    ordered = [n for _, n in counts if all(w.ordered for w in found[n].walks)]
    if small:
        lead = min(small)[1]
    elif len(ordered) > 1:
        lead = _rarest(db, found, ordered)
    elif ordered:  # a walk that stops at the limit reads fewer rows than one over every conversation
        lead = ordered[0]
    else:
        return _by_recency(db, found, limit)
    rest = [clause for n, clause in enumerate(found) if n != lead]
    condition, args = where(rest)
    rows: dict[int, Row] = {}
    for walk in found[lead].walks:
        # A word index's walk: by rowid from its list (NOT INDEXED keeps the planner from walking another
        # field's index instead and probing the list for each row).
        indexed = f" INDEXED BY {walk.index}" if walk.index else " NOT INDEXED"
        sql = f"{_SELECT}{indexed} WHERE {walk.sql}{' AND ' + condition if condition else ''}"
        # A word index lists a superset: the field's own clause is checked too.
        check = [found[lead]] if not walk.index else []
        extra, extra_args = where(check)
        sql += f" AND {extra}" if extra else ""
        sql += " ORDER BY c.created_at DESC, c.id DESC LIMIT ?"
        for row in db.execute(sql, (*walk.args, *args, *extra_args, limit)):
            rows[row[0]] = row
    return sorted(rows.values(), key=lambda r: (-r[3], -r[0]))[:limit]


def passes_none(db: Any, found: Sequence[Clause]) -> bool:
    """Whether one clause that an index finds is passed by no conversation at all (a value being typed,
    `lang:d`): then nothing passes them all, words or not."""
    return any(_count(db, clause, found, cap=1) == 0 for clause in found if clause.walks)


def _count(db: Any, clause: Clause, found: Sequence[Clause], *, cap: int = CAP) -> int:
    """How many conversations the clause's walks list, counted up to `cap` (in the index only, with the
    dates, which the same index holds)."""
    condition, args = where([c for c in found if c.dates and c is not clause])
    total = 0
    for walk in clause.walks:
        if walk.index:
            sql = (
                f"SELECT count(*) FROM (SELECT 1 FROM conversations c INDEXED BY {walk.index} WHERE {walk.sql}"
                f"{' AND ' + condition if condition else ''} LIMIT ?)"
            )
            params: tuple[Any, ...] = (*walk.args, *args, cap - total)
        else:
            sql = f"SELECT count(*) FROM (SELECT 1 FROM {walk.fts} WHERE {walk.fts} MATCH ? LIMIT ?)"
            params = (*walk.args, cap - total)
        total += db.execute(sql, params).fetchone()[0]
        if total >= cap:
            break
    return total


def _by_recency(db: Any, found: list[Clause], limit: int) -> list[Row]:
    """No field an index can lead: the newest conversations walked newest first, among the RECENT newest
    first (from the created_at of the RECENT-th, so the walk is bounded and still ordered: every one left
    out is older than every one in), then, when too few of those pass, over every conversation (a scan,
    cheaper than the index walk row by row)."""
    condition, args = where(found)
    bound = db.execute(
        "SELECT created_at FROM conversations ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
        (RECENT - 1,),
    ).fetchone()
    if bound is None:  # fewer than RECENT in all: the scan reads them all anyway
        rows = []
    else:
        rows = db.execute(
            f"{_SELECT} INDEXED BY conversations_created WHERE c.created_at >= ? AND {condition} "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
            (bound[0], *args, limit),
        ).fetchall()
    if len(rows) < limit:
        rows = db.execute(
            f"{_SELECT} WHERE {condition} ORDER BY +c.created_at DESC, c.id DESC LIMIT ?", (*args, limit)
        ).fetchall()
    return rows


def _rarest(db: Any, found: Sequence[Clause], candidates: list[int]) -> int:
    """Of clauses each passed by CAP conversations or more, the one that the fewest of SAMPLE conversations
    spread evenly over the ids pass (a walk led by it reads the fewest rows when the others reject many)."""
    # Two subqueries: SQLite reads min or max from the end of the table, not both in one pass.
    lo, hi = db.execute(
        "SELECT (SELECT min(id) FROM conversations), (SELECT max(id) FROM conversations)"
    ).fetchone()
    step = max(1, (hi - lo) // SAMPLE)
    sums = ", ".join(f"sum(CASE WHEN {found[n].sql} THEN 1 ELSE 0 END)" for n in candidates)
    args = [a for n in candidates for a in found[n].args]
    shares = db.execute(
        "WITH RECURSIVE ids(x) AS (SELECT ? UNION ALL SELECT x + ? FROM ids WHERE x + ? <= ?) "
        f"SELECT {sums} FROM ids CROSS JOIN conversations c ON c.id = ids.x",
        (lo, step, step, hi, *args),
    ).fetchone()
    return min(zip(shares, range(len(candidates)), candidates, strict=True))[2]


__all__ = [
    "CAP",
    "INDEXES",
    "RECENT",
    "Clause",
    "Walk",
    "clauses",
    "newest",
    "passes_none",
    "where",
]
