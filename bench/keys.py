"""Keys beyond the cursor, at 100k, in a real pseudo-terminal: opening a conversation, switching views, filtering.

    .venv/bin/python bench/keys.py [--count 100000] [--rounds 20] [--smoke]

Each key is sent after a quiet moment (no repaint for 0.15 s, so a clock tick is never taken for the
answer), and timed from writing it to the pty until the screen shows what the key asked for, read off a
terminal emulator (pyte) as a person reads it, not to the first byte of output:
- open: `j` and `enter` together, until the next row's subject heads the detail pane; `esc` back;
- view: `2` (the phone queue) until its tab is the active one, then `1` back to the unified queue;
- filter echo: each letter typed in the `/` prompt until it shows in the prompt;
- filter applied: from the last letter of `lang:de` until the view bar shows the filter and the count it
  leaves (the list is filtered once the agent pauses: 0.12 s of debounce at this size, included).
Target (issue 16): p95 ≤ 16 ms for open and view, and for each filter keystroke.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import COLUMNS, ROWS, PtyProcess, console_env, percentile


class Screen:
    """What the terminal shows, fed from the child's output as it arrives."""

    def __init__(self, child: PtyProcess) -> None:
        self.child = child
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.index = 0
        self.sent = 0.0

    def until(self, shows: re.Pattern[str], timeout: float = 10.0) -> float:
        """The arrival time of the output after which some line matches `shows`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.child.lock:
                fresh = self.child.chunks[self.index :]
            for when, data in fresh:
                self.index += 1
                self.stream.feed(data)
                if any(shows.search(line) for line in self.screen.display):
                    return when
            time.sleep(0.001)
        raise TimeoutError(f"{shows.pattern!r} did not show in {timeout} s")

    def feed(self) -> None:
        """Everything written so far, on the screen."""
        with self.child.lock:
            fresh = self.child.chunks[self.index :]
        self.index += len(fresh)
        for _, data in fresh:
            self.stream.feed(data)

    def settle(self) -> None:
        self.child.quiet_for(0.15)
        self.feed()

    def timed(self, key: bytes, shows: re.Pattern[str]) -> float:
        self.settle()
        self.sent, _ = self.child.send(key)
        return self.until(shows) - self.sent

    def since_sent(self, shows: re.Pattern[str]) -> float:
        """From the last key sent until the screen shows `shows` (a later answer to that same key)."""
        return self.until(shows) - self.sent

    def cursor(self) -> int:
        """The highlighted row's number, from the view bar's `N/total`."""
        found = re.search(r"^ (\d+)/\d+ │", self.line_with(r"^ \d+/\d+ │"))
        return int(found.group(1)) if found else 1

    def row_ref(self, n: int) -> str:
        """The order number (#…) in the subject of the list's row `n` (1-based, the list scrolled to the top)."""
        lines = self.screen.display
        header = next(i for i, line in enumerate(lines) if line.startswith("Chan."))
        found = re.search(r"#\d+", lines[header + n].split("▏")[0])
        return found.group(0) if found else ""

    def line_with(self, pattern: str) -> str:
        return next((line for line in self.screen.display if re.search(pattern, line)), "")


LOADING_STARTS = 3


def keys_while_loading(argv: list[str], env: dict[str, str], count: int) -> list[float]:
    """`j` every 10 ms from the queue's head on screen (the view bar's "/200+") until the whole queue is in:
    each key's time to the first byte of its answer, over LOADING_STARTS starts. What the snapshot's landing
    holds the event loop for shows here as one slow key."""
    latencies: list[float] = []
    whole = f"All {count}".encode()
    for _ in range(LOADING_STARTS):
        child = PtyProcess(argv, env)
        try:
            first, _ = child.wait_for_first([b"/200+", whole], timeout=180)
            head_at, _ = child.output_since(0)
            loaded = first == whole
            while not loaded:
                sent, index = child.send(b"j")
                answered = child.first_output_after(index, 2.0)
                latencies.append((answered if answered is not None else sent + 2.0) - sent)
                loaded = whole in child.output_since(max(0, head_at - 1))[1]
                time.sleep(0.01)
        finally:
            child.stop()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, 3 rounds")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.rounds = 2000, 3
    from _data import make_workspace

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = make_workspace(tmp / "bench.db", args.count)
        env = console_env(tmp)
        child = PtyProcess([sys.executable, "-m", "standardiste", "--db", str(db), "--agent", "bench"], env)
        screen = Screen(child)
        opened: list[float] = []
        views: list[float] = []
        echoes: list[float] = []
        filtered: list[float] = []
        try:
            screen.until(re.compile(rf"All {args.count}\b"), timeout=180)
            time.sleep(1.0)
            for round_ in range(args.rounds):
                # open: `j` and `enter` at once, until the detail's head shows the row below's subject.
                below = screen.row_ref(screen.cursor() + 1)
                opened.append(screen.timed(b"j\r", re.compile(rf"▏ .*{re.escape(below)}")))
                # Back to the list. At this width the list kept the keys and stays as it is: esc may
                # change nothing on screen (nothing is redrawn that did not change), so no answer to wait for.
                # A key sent within ESCDELAY (0.1 s) of it would make alt+key of the two.
                screen.settle()
                screen.child.send(b"\x1b")
                time.sleep(0.25)
                screen.settle()
                if round_ % 5 == 4:
                    screen.timed(b"g", re.compile(r"^ 1/"))  # back to the top: the rows stay on screen
                views.append(screen.timed(b"2", re.compile(r"▶2 Phone")))
                views.append(screen.timed(b"1", re.compile(r"▶1 All")))
            for _ in range(max(1, args.rounds // 4)):
                screen.timed(b"/", re.compile(r"lter: words, or lang"))
                typed = ""
                for letter in "lang:de":
                    typed += letter
                    echo = re.compile(rf"^ {re.escape(typed)}\s*$")  # the prompt line, as typed
                    echoes.append(screen.timed(letter.encode(), echo))
                # The view bar shows the filter once it is applied (after a pause at this size).
                filtered.append(screen.since_sent(re.compile(r"▶1 All \d+.*/ lang:de\b")))
                screen.timed(b"\r", re.compile(r"⏎  Open"))  # the prompt closed: the screen's keys again
                screen.timed(b"\x1b", re.compile(rf"▶1 All {args.count}\b"))
        finally:
            child.stop()
        argv = [sys.executable, "-m", "standardiste", "--db", str(db), "--agent", "bench"]
        loading = keys_while_loading(argv, env, args.count)
        print(f"{args.count:,} conversations, {COLUMNS}×{ROWS} pty, keys until the screen shows their answer")
        for label, values in (
            ("open (enter)", opened),
            ("switch view (2, 1)", views),
            ("filter keystroke echo", echoes),
            ("filter applied (after the pause)", filtered),
        ):
            if values:
                print(
                    f"{label:34} p50 {percentile(values, 0.5) * 1000:6.1f} ms   "
                    f"p95 {percentile(values, 0.95) * 1000:6.1f} ms   ({len(values)} keys)"
                )
        if loading:
            print(
                f"{'j while the snapshot lands':34} p50 {percentile(loading, 0.5) * 1000:6.1f} ms   "
                f"max {max(loading) * 1000:6.1f} ms   ({len(loading)} keys, {LOADING_STARTS} starts; to the first "
                "byte of the answer)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
