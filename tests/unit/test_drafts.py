"""Drafts: saved as the agent types, back after a killed process, safe to call from several threads."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from outbox_child import Child
from standardiste.console.core.drafts import Draft, DraftKind, Drafts


@pytest.fixture
def drafts_path(tmp_path: Path) -> Path:
    return tmp_path / "drafts.db"


def test_save_load_discard(drafts_path: Path) -> None:
    clock = iter([100.0, 200.0, 300.0]).__next__
    with Drafts(drafts_path, clock=clock) as drafts:
        saved = drafts.save(
            "local:1",
            "Dear Ana,\n\nyour parcel",
            kind="forward",
            to=("ana@example.com", " "),
            cc=["boss@example.com"],
            bcc=("audit@example.com",),
            subject="Fwd: parcel",
        )
        assert saved == Draft(
            "local:1",
            "Dear Ana,\n\nyour parcel",
            DraftKind.FORWARD,
            ("ana@example.com",),
            ("boss@example.com",),
            ("audit@example.com",),
            "Fwd: parcel",
            100.0,
        )
        assert drafts.load("local:1") == saved
        assert drafts.load("local:2") is None
        # A second save replaces the first: one draft per conversation.
        second = drafts.save("local:1", "Dear Ana, your parcel left", kind=DraftKind.NOTE)
        assert drafts.load("local:1") == second
        assert second is not None and second.kind is DraftKind.NOTE and second.to == ()
        drafts.save("chatwoot:9", "hello", to="solo@example.com")
        assert [d.conversation_id for d in drafts.all()] == ["chatwoot:9", "local:1"]  # newest first
        assert drafts.load("chatwoot:9") is not None
        assert drafts.load("chatwoot:9").to == ("solo@example.com",)  # type: ignore[union-attr]
        assert drafts.discard("local:1") is True
        assert drafts.discard("local:1") is False
        assert drafts.load("local:1") is None
        assert [d.conversation_id for d in drafts.all()] == ["chatwoot:9"]


def test_an_emptied_composer_is_no_draft(drafts_path: Path) -> None:
    with Drafts(drafts_path) as drafts:
        drafts.save("local:1", "something")
        assert drafts.save("local:1", "  \n ") is None
        assert drafts.load("local:1") is None
        # Recipients alone are worth keeping (a forward being addressed).
        assert drafts.save("local:2", "", kind="forward", to=("x@example.com",)) is not None
        with pytest.raises(ValueError):
            drafts.save("local:3", "x", kind="shout")
        with pytest.raises(ValueError):
            drafts.save("", "x")


def test_a_draft_is_in_the_file_for_another_reader(drafts_path: Path) -> None:
    with Drafts(drafts_path) as drafts:
        drafts.save("local:1", "Bonjour, votre colis 📦", subject="Re: colis")
        # A second connection (another process would use the same path) sees the committed draft.
        with Drafts(drafts_path) as other:
            loaded = other.load("local:1")
        assert loaded is not None and loaded.body == "Bonjour, votre colis 📦"
        db = sqlite3.connect(drafts_path)
        try:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            db.close()


def test_threads_may_share_one_instance(drafts_path: Path) -> None:
    errors: list[BaseException] = []

    with Drafts(drafts_path) as drafts:

        def typist(n: int) -> None:
            try:
                for i in range(40):
                    drafts.save(f"local:{n}", f"draft {n} rev {i}")
                    assert drafts.load(f"local:{n}") is not None
                    drafts.all()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=typist, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors
        assert sorted(d.body for d in drafts.all()) == [f"draft {n} rev 39" for n in range(6)]


def test_closed_is_closed(drafts_path: Path) -> None:
    drafts = Drafts(drafts_path)
    drafts.close()
    drafts.close()
    with pytest.raises(RuntimeError, match="closed"):
        drafts.load("local:1")


def test_drafts_survive_a_killed_process(drafts_path: Path) -> None:
    with Child("draft", str(drafts_path), "local:42") as child:
        child.expect("SAVED 25")
        status = child.kill()
        later = [int(line.split()[1]) for line in child.rest() if line.startswith("SAVED")]
    assert status == -signal.SIGKILL
    reported = max([25, *later])
    started = time.monotonic()
    with Drafts(drafts_path) as drafts:
        draft = drafts.load("local:42")
    assert time.monotonic() - started < 5
    assert draft is not None
    saved = int(draft.body.rsplit(" ", 1)[-1])
    # Every save the child reported is on disk; at most one more (saved, killed before it could say so).
    assert reported <= saved <= reported + 1
    assert draft.body == " ".join(f"word {n}" for n in range(1, saved + 1))
    assert draft.to == ("ana@example.com",) and draft.subject == "Your parcel"


def test_a_sent_draft_goes_but_a_newer_one_stays(drafts_path: Path) -> None:
    """`discard(key=)` removes the draft of the reply just journalled, not one typed since (another key)."""
    with Drafts(drafts_path) as drafts:
        drafts.save("local:1", "first reply", key="k1")
        assert drafts.load("local:1").key == "k1"  # type: ignore[union-attr]
        drafts.save("local:1", "second reply, typed in the other console", key="k2")
        assert drafts.discard("local:1", key="k1") is False
        assert drafts.load("local:1").body == "second reply, typed in the other console"  # type: ignore[union-attr]
        assert drafts.discard("local:1", key="k2") is True
        assert drafts.load("local:1") is None


def test_a_drafts_file_from_before_keys_is_migrated(drafts_path: Path) -> None:
    db = sqlite3.connect(drafts_path)
    db.execute(
        "CREATE TABLE drafts (conversation_id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, "
        "to_addrs TEXT NOT NULL, cc_addrs TEXT NOT NULL, bcc_addrs TEXT NOT NULL, subject TEXT NOT NULL, "
        "updated_at REAL NOT NULL) WITHOUT ROWID"
    )
    db.execute("INSERT INTO drafts VALUES ('local:3', 'reply', 'old words', '[]', '[]', '[]', '', 1.0)")
    db.commit()
    db.close()
    with Drafts(drafts_path) as drafts:
        old = drafts.load("local:3")
        assert old is not None and old.body == "old words" and old.key == ""
