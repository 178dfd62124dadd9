"""A console process that the crash tests kill with SIGKILL at a chosen moment.

Run with `sys.executable tests/outbox_child.py MODE ...` (the tests use `Child`, below). It reports on stdout, one line per step, flushed,
so the parent knows exactly what was on disk when it pulled the trigger. It never ends on its own before
`LINGER` seconds, so only the kill can stop it at the moment under test (and an orphan still goes away).

    draft DRAFTS CONVERSATION
        Saves a draft over and over like a typing agent ("word 1", "word 1 word 2", ...), printing
        "SAVED <n>" after each save returned.
    reply OUTBOX WORKSPACE CONVERSATION AGENT STAGE DELAY
        Journals a Reply through an `Outbox` whose `send` performs it on the local workspace, and prints
        "SUBMITTED <entry id> <key> <due_at>". Then, by STAGE:
          journalled    nothing more happens before the kill (DELAY > 0 keeps it in its undo window);
          before-apply  `send` prints "SENDING <key>" and hangs before the workspace sees the reply;
          after-apply   `send` performs it, prints "APPLIED <key>", and hangs before the outbox can
                        record the confirmation.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time

from standardiste.backends.base import Command, CommandResult, Reply
from standardiste.backends.local.backend import LocalBackend
from standardiste.console.core.drafts import Drafts
from standardiste.console.core.outbox import Outbox

LINGER = 30.0


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def drafts(path: str, conversation_id: str) -> None:
    store = Drafts(path)
    body = ""
    deadline = time.monotonic() + LINGER
    n = 0
    while time.monotonic() < deadline:
        n += 1
        body = f"{body} word {n}".strip()
        store.save(conversation_id, body, to=("ana@example.com",), subject="Your parcel")
        say(f"SAVED {n}")


async def reply(
    outbox_path: str, workspace: str, conversation_id: str, agent: str, stage: str, delay: float
) -> None:
    backend = LocalBackend(workspace, agent_id=agent, poll_interval=60.0)
    await backend.connect()

    async def send(command: Command) -> CommandResult:
        if stage == "before-apply":
            say(f"SENDING {command.key}")
            await asyncio.sleep(LINGER)
        result = await backend.perform(command)
        if stage == "after-apply":
            say(f"APPLIED {command.key}")
            await asyncio.sleep(LINGER)  # the confirmation never reaches the journal
        return result

    outbox = Outbox(outbox_path, send, where=lambda command: backend.workspace_id)
    await outbox.start()
    command = Reply(conversation_id=conversation_id, body="Your parcel left the warehouse this morning.")
    entry_id = await outbox.submit(command, delay=delay)
    entry = outbox.get(entry_id)
    assert entry is not None
    say(f"SUBMITTED {entry_id} {entry.key} {entry.due_at!r}")
    await asyncio.sleep(LINGER)


class Child:
    """The parent's handle on one child: start it, wait for a report line, SIGKILL it, always reap it."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._buffer = b""
        self.lines: list[str] = []

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The first line starting with `prefix` not read yet; fails on timeout or if the child died."""
        deadline = time.monotonic() + timeout
        while True:
            for i, line in enumerate(self.lines):
                if line.startswith(prefix):
                    del self.lines[: i + 1]
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise TimeoutError(f"no {prefix!r} from the child; stderr: {self.stderr()}")
            assert self.proc.stdout is not None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready and not self._read():
                self.proc.wait()
                raise RuntimeError(f"the child ended without {prefix!r}; stderr: {self.stderr()}")

    def _read(self) -> bool:
        assert self.proc.stdout is not None
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\n")
        self.lines.extend(line.decode() for line in complete)
        return bool(chunk)

    def kill(self) -> int:
        """SIGKILL: no atexit, no finally, no flush; the kernel only closes files and drops locks.

        Returns the exit status: -SIGKILL when the kill is what ended it."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def rest(self) -> list[str]:
        """After the kill: every line the child wrote that was not read yet."""
        while self._read():
            pass
        lines, self.lines = self.lines, []
        return lines

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "draft":
        drafts(argv[1], argv[2])
    elif mode == "reply":
        outbox_path, workspace, conversation_id, agent, stage, delay = argv[1:7]
        if stage not in ("journalled", "before-apply", "after-apply"):
            raise SystemExit(f"unknown stage {stage!r}")
        asyncio.run(reply(outbox_path, workspace, conversation_id, agent, stage, float(delay)))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
