"""`standardiste search`: the workspace's full-text search from the shell, for people and scripts.

Every string printed passed the sanitiser: customers write the subjects, names and bodies, and a body may
hold escape sequences that would retitle or clear the terminal of whoever greps the workspace. Exit status
as grep's: 0 with hits, 1 with none, 2 on a query or a file that cannot be searched.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime
from typing import IO

from ...console.core.sanitize import sanitize
from ..optional import SearchHit
from . import search_postgres
from .database import STORAGE_ERRORS, SchemaTooNew, Target
from .search import SearchError, search
from .workspace import Workspace

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"


def run_search(
    db: Target,
    query: str,
    *,
    json_lines: bool = False,
    limit: int = 20,
    agent: str | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if limit < 1:
        print("standardiste search: --limit must be at least 1", file=err)
        return 2
    try:
        ws = Workspace(db)
    except (*STORAGE_ERRORS, SchemaTooNew) as error:
        print(f"standardiste search: cannot open {db}: {sanitize(str(error), single_line=True)}", file=err)
        return 2
    try:
        engine = search_postgres.search if ws.dialect == "postgres" else search
        hits = engine(ws.db, query, limit=limit, me=agent or getpass.getuser())
        # Our own bold only where the words matched, on a terminal that wants colour: spans index the
        # sanitised snippet, so no customer byte is ever written raw.
        bold = not json_lines and out.isatty() and "NO_COLOR" not in os.environ
        for hit in hits:
            conversation = ws.conversation(hit.conversation_id)
            if conversation is None:  # deleted between the search and now
                continue
            record = {
                "id": hit.conversation_id,
                "channel": conversation.channel.value,
                "state": conversation.state.value,
                "customer": sanitize(conversation.customer_name, single_line=True),
                "subject": sanitize(conversation.subject, single_line=True),
                "snippet": sanitize(hit.snippet, single_line=True),
                "spans": [list(span) for span in hit.spans],
                "message_id": hit.message_id,
                "score": hit.score,
                "created_at": datetime.fromtimestamp(conversation.created_at)
                .astimezone()
                .isoformat(timespec="seconds"),
            }
            print(
                json.dumps(record, ensure_ascii=False) if json_lines else _line(record, hit, bold), file=out
            )
    except SearchError as error:
        print(f"standardiste search: {sanitize(str(error), single_line=True)}", file=err)
        return 2
    finally:
        ws.close()
    return 0 if hits else 1


def _line(record: dict[str, object], hit: SearchHit, bold: bool) -> str:
    snippet = hit.snippet
    if bold and hit.spans:
        pieces, at = [], 0
        for start, end in hit.spans:
            pieces += [snippet[at:start], BOLD, snippet[start:end], PLAIN]
            at = end
        snippet = "".join(pieces) + snippet[at:]
    else:
        snippet = str(record["snippet"])
    when = str(record["created_at"])[:16].replace("T", " ")
    return (
        f"{record['id']}  {when}  {record['channel']}/{record['state']}  {record['customer']}"
        f"  «{record['subject']}»  {snippet}"
    )


__all__ = ["run_search"]
