"""One blocking IMAP connection (imapclient), used from a single worker thread.

Every method turns library, socket and TLS failures into the contract's typed errors (see `errors.py`), so the
async side never sees an `imaplib` exception. Fetched message data comes back as plain values.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient

from ..base import Invalid, NotFound, Unavailable
from .errors import translate
from .settings import ImapSettings

_CHUNK = 200
# Flags are atoms; servers send them as bytes. Latin-1 keeps any byte and never fails.
_FLAG_ENCODING = "latin-1"


@dataclass(frozen=True, slots=True)
class MailboxInfo:
    name: str
    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int | None
    # PERMANENTFLAGS contains \* : the client may create keywords, so marks can live on the server.
    keywords_allowed: bool


@dataclass(frozen=True, slots=True)
class RawMessage:
    uid: int
    flags: frozenset[str]
    internaldate: float
    size: int
    data: bytes
    partial: bool


def ssl_context(settings: ImapSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _flags(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(v.decode(_FLAG_ENCODING) if isinstance(v, bytes) else str(v) for v in values)


def _timestamp(value: Any) -> float:
    if isinstance(value, datetime):
        try:
            return value.timestamp()
        except (OverflowError, OSError, ValueError):
            return 0.0
    return 0.0


def _uid_set(value: Any) -> list[int]:
    """`b"7,9:11"` -> [7, 9, 10, 11]."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    found: list[int] = []
    for item in text.split(","):
        low, _, high = item.strip().partition(":")
        if low.isdigit() and (not high or high.isdigit()):
            found.extend(range(int(low), int(high or low) + 1))
    return found


def _chunks(uids: list[int], size: int = _CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


class ImapSession:
    """A logged-in connection. Not thread-safe: the adapter gives each session its own thread."""

    def __init__(self, settings: ImapSettings, password: str) -> None:
        self.settings = settings
        self._password = password
        self.client: IMAPClient | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.selected: MailboxInfo | None = None
        self._readonly = False
        self.condstore = False

    # ------------------------------------------------------------------------------------------ plumbing

    @contextmanager
    def _errors(self) -> Iterator[None]:
        s = self.settings
        try:
            yield
        except Exception as error:
            raise translate(error, service="IMAP", host=s.host, port=s.port, secret=self._password) from None

    @property
    def _c(self) -> IMAPClient:
        if self.client is None:
            raise Invalid("the IMAP connection is closed")
        return self.client

    def open(self) -> ImapSession:
        s = self.settings
        with self._errors():
            client = IMAPClient(
                s.host,
                port=s.port,
                ssl=s.security == "tls",
                ssl_context=ssl_context(s) if s.security == "tls" else None,
                timeout=s.timeout,
            )
            self.client = client
            client.normalise_times = False
            if s.security == "starttls":
                client.starttls(ssl_context(s))
            client.login(s.user, self._password)
            self.capabilities = frozenset(c.decode("ascii", "replace").upper() for c in client.capabilities())
            if "CONDSTORE" in self.capabilities and "ENABLE" in self.capabilities:
                client.enable("CONDSTORE")
                self.condstore = True
        return self

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            self.abort_socket(client)

    def abort(self) -> None:
        """Drop the connection without a goodbye (it may be dead already)."""
        client, self.client = self.client, None
        if client is not None:
            self.abort_socket(client)

    @staticmethod
    def abort_socket(client: IMAPClient) -> None:
        with suppress(Exception):
            client.shutdown()

    # ------------------------------------------------------------------------------------------ mailboxes

    def select(self, folder: str, *, readonly: bool = False) -> MailboxInfo:
        self.selected = None
        self._readonly = readonly
        with self._errors():
            try:
                response = self._c.select_folder(folder, readonly=readonly)
            except Exception as error:
                if self.client is not None and "select" in str(error).lower():
                    raise NotFound(f"the mailbox {folder!r} does not exist on the server") from None
                raise
        permanent = _flags(response.get(b"PERMANENTFLAGS", ()))
        self.selected = MailboxInfo(
            name=folder,
            uidvalidity=int(response.get(b"UIDVALIDITY", 0)),
            uidnext=int(response.get(b"UIDNEXT", 0)),
            exists=int(response.get(b"EXISTS", 0)),
            highestmodseq=response.get(b"HIGHESTMODSEQ") if self.condstore else None,
            keywords_allowed="\\*" in permanent,
        )
        return self.selected

    def folder_exists(self, folder: str) -> bool:
        with self._errors():
            return bool(self._c.folder_exists(folder))

    def create_folder(self, folder: str) -> None:
        with self._errors():
            self._c.create_folder(folder)

    def status(self, folder: str) -> tuple[int, int]:
        """(UIDVALIDITY, UIDNEXT) of a folder without selecting it."""
        with self._errors():
            response = self._c.folder_status(folder, [b"UIDVALIDITY", b"UIDNEXT"])
        return int(response.get(b"UIDVALIDITY", 0)), int(response.get(b"UIDNEXT", 0))

    # ------------------------------------------------------------------------------------------ messages

    def uids_from(self, first: int) -> list[int]:
        """UIDs >= first. (`n:*` always matches the last message, even below n: filter it.)"""
        with self._errors():
            found = self._c.search(["UID", f"{max(1, first)}:*"])
        return sorted(u for u in found if u >= first)

    def all_uids(self) -> list[int]:
        with self._errors():
            return sorted(self._c.search(["ALL"]))

    def search_header(self, name: str, value: str) -> list[int]:
        with self._errors():
            return sorted(self._c.search(["HEADER", name, value]))

    def search_uids(self, criteria: list[str]) -> list[int]:
        """UID SEARCH CHARSET UTF-8 with these criteria (atoms and strings, prefix notation for OR)."""
        with self._errors():
            return sorted(self._c.search(criteria, charset="UTF-8"))

    def fetch_headers(self, uids: list[int]) -> list[RawMessage]:
        return self._fetch(uids, [b"BODY.PEEK[HEADER]"], partial=False)

    def fetch_messages(self, uids: list[int], max_bytes: int) -> list[RawMessage]:
        """Whole messages, each cut at `max_bytes` (flagged `partial`) so a huge one cannot stall the console."""
        return self._fetch(uids, [f"BODY.PEEK[]<0.{max_bytes}>".encode()], partial=True, max_bytes=max_bytes)

    def _fetch(
        self, uids: list[int], items: list[bytes], *, partial: bool, max_bytes: int = 0
    ) -> list[RawMessage]:
        wanted = [b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", *items]
        out: list[RawMessage] = []
        for chunk in _chunks(sorted(set(uids))):
            with self._errors():
                response = self._c.fetch(chunk, wanted)
            for uid, data in response.items():
                body = next((v for k, v in data.items() if k.startswith(b"BODY[")), None)
                if not isinstance(body, bytes):
                    continue  # expunged between SEARCH and FETCH
                size = int(data.get(b"RFC822.SIZE", len(body)))
                out.append(
                    RawMessage(
                        uid=int(uid),
                        flags=_flags(data.get(b"FLAGS", ())),
                        internaldate=_timestamp(data.get(b"INTERNALDATE")),
                        size=size,
                        data=body,
                        partial=partial and size > len(body) and len(body) >= max_bytes,
                    )
                )
        return sorted(out, key=lambda m: m.uid)

    def fetch_flags(self, uids: list[int]) -> dict[int, frozenset[str]]:
        flags: dict[int, frozenset[str]] = {}
        for chunk in _chunks(sorted(set(uids)), 1000):
            with self._errors():
                response = self._c.fetch(chunk, [b"FLAGS"])
            flags.update({int(uid): _flags(data.get(b"FLAGS", ())) for uid, data in response.items()})
        return flags

    def changed_flags(self, uids: list[int], since: int) -> tuple[dict[int, frozenset[str]], int | None]:
        """CONDSTORE: flags of the messages changed since MODSEQ `since`, and the highest MODSEQ seen."""
        flags: dict[int, frozenset[str]] = {}
        highest: int | None = None
        for chunk in _chunks(sorted(set(uids)), 1000):
            with self._errors():
                response = self._c.fetch(chunk, [b"FLAGS"], modifiers=[f"CHANGEDSINCE {since}"])
            for uid, data in response.items():
                flags[int(uid)] = _flags(data.get(b"FLAGS", ()))
                modseq = data.get(b"MODSEQ")
                if isinstance(modseq, tuple | list) and modseq:
                    highest = max(highest or 0, int(modseq[0]))
        return flags, highest

    def store_unchanged_since(
        self, uids: list[int], operation: str, flags: Iterable[str], modseq: int
    ) -> set[int]:
        """CONDSTORE's compare-and-swap: `UID STORE uids (UNCHANGEDSINCE modseq) <operation> (flags)`.

        One command, so the server applies it as a whole against other sessions' stores; returns the UIDs it
        refused because they changed after `modseq` (the MODIFIED response code), empty when it all went in.
        """
        assert operation in ("+FLAGS.SILENT", "-FLAGS.SILENT")
        wanted = " ".join(sorted(flags))
        with self._errors():
            imap = self._c._imap
            imap.untagged_responses.pop("MODIFIED", None)
            typ, data = imap.uid(
                "STORE",
                ",".join(str(u) for u in sorted(uids)),
                f"(UNCHANGEDSINCE {modseq})",
                operation,
                f"({wanted})",
            )
            if typ != "OK":
                raise imap.error(f"STORE failed: {data!r}")
            refused = imap.untagged_responses.pop("MODIFIED", [])
        return {uid for value in refused for uid in _uid_set(value)}

    def add_flags(self, uids: list[int], flags: Iterable[str]) -> dict[int, frozenset[str]]:
        wanted = [f.encode(_FLAG_ENCODING) for f in flags]
        if not uids or not wanted:
            return {}
        with self._errors():
            response = self._c.add_flags(sorted(uids), wanted)
        return {int(uid): _flags(values) for uid, values in response.items()}

    def remove_flags(self, uids: list[int], flags: Iterable[str]) -> dict[int, frozenset[str]]:
        wanted = [f.encode(_FLAG_ENCODING) for f in flags]
        if not uids or not wanted:
            return {}
        with self._errors():
            response = self._c.remove_flags(sorted(uids), wanted)
        return {int(uid): _flags(values) for uid, values in response.items()}

    def append(self, folder: str, data: bytes, flags: Iterable[str] = ()) -> tuple[int, int] | None:
        """APPEND; returns (UIDVALIDITY, UID) of the copy when the server says it (UIDPLUS's APPENDUID)."""
        with self._errors():
            response = self._c.append(
                folder, data, flags=[f.encode() for f in flags], msg_time=datetime.now().astimezone()
            )
        text = response.decode("ascii", "replace") if isinstance(response, bytes) else str(response)
        marker = text.upper().find("APPENDUID")
        if marker < 0:
            return None
        parts = text[marker:].replace("]", " ").split()
        try:
            return int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            return None

    def fetch_whole(self, uid: int) -> bytes | None:
        """One complete message (for an attachment: no size cap, it runs in a worker thread)."""
        with self._errors():
            response = self._c.fetch([uid], [b"BODY.PEEK[]"])
        data = response.get(uid, {})
        body = next((v for k, v in data.items() if k.startswith(b"BODY[")), None)
        return body if isinstance(body, bytes) else None

    def ensure_selected(self, folder: str, *, readonly: bool = False) -> MailboxInfo:
        if self.selected is not None and self.selected.name == folder and self._readonly == readonly:
            return self.selected
        info = self.select(folder, readonly=readonly)
        self._readonly = readonly
        return info

    def pending_changes(self) -> bool:
        """Whether the server slipped EXPUNGE or EXISTS responses into the answer of another command.

        UID FETCH and UID SEARCH may carry them (RFC 3501 §7.4.1); imapclient files them away unseen, and an
        unseen EXPUNGE makes the sequence-number map wrong, so the caller must then reconcile in full.
        """
        if self.client is None:
            return False
        untagged = getattr(self.client._imap, "untagged_responses", {})
        found = False
        for kind in ("EXPUNGE", "EXISTS", "FETCH"):
            if untagged.pop(kind, None):
                found = True
        return found

    # ------------------------------------------------------------------------------------------ waiting

    def noop(self) -> list[tuple[Any, ...]]:
        with self._errors():
            _, responses = self._c.noop()
        self._check_bye(list(responses))
        return list(responses)

    def idle_start(self) -> None:
        with self._errors():
            self._c.idle()

    def idle_wait(self, timeout: float) -> tuple[list[tuple[Any, ...]], bool]:
        """Untagged responses received during IDLE within `timeout` seconds, and whether IDLE goes on.

        imapclient returns an empty list both on timeout and when the server closed the socket. An early
        empty return means the latter (or a spurious wake-up): IDLE is ended then, which raises the typed
        error on a dead connection and otherwise returns what the server had to say.
        """
        started = time.monotonic()
        with self._errors():
            responses = list(self._c.idle_check(timeout=timeout))
        self._check_bye(responses)
        if not responses and time.monotonic() - started < timeout * 0.5:
            return self.idle_stop(), False
        return responses, True

    def _check_bye(self, responses: list[tuple[Any, ...]]) -> None:
        """A server shutting down says BYE and may keep the socket open a while: leave at once."""
        for response in responses:
            if response and response[0] == b"BYE":
                text = b" ".join(r for r in response[1:] if isinstance(r, bytes)).decode("utf-8", "replace")
                self.abort()
                s = self.settings
                raise Unavailable(f"the IMAP server {s.host}:{s.port} closed the connection: {text or 'BYE'}")

    def idle_stop(self) -> list[tuple[Any, ...]]:
        with self._errors():
            _, responses = self._c.idle_done()
        return list(responses)
