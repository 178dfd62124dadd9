"""A child process on a real pseudo-terminal for the benchmarks: every byte it writes, with its arrival time."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

import psutil

COLUMNS, ROWS = 160, 45


def _control_the_terminal() -> None:
    """In the child, after its new session: the pty becomes its controlling terminal, as a terminal
    emulator's shell has one. Programs that open /dev/tty (aerc) fail without it."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProcess:
    """A child on a real pseudo-terminal; every byte it writes is kept with its arrival time."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
            preexec_fn=_control_the_terminal,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self.lock = threading.Lock()
        self.peak_rss = 0
        self._stop = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _read(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.chunks.append((time.perf_counter(), data))

    def _sample(self) -> None:
        try:
            process = psutil.Process(self.process.pid)
            while not self._stop and self.process.poll() is None:
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
                time.sleep(0.05)
        except psutil.Error:
            return

    def output_since(self, index: int) -> tuple[int, bytes]:
        with self.lock:
            return len(self.chunks), b"".join(data for _, data in self.chunks[index:])

    def wait_for(self, marker: bytes, timeout: float = 60.0, since: int = 0) -> float:
        """The arrival time of the chunk that completed `marker` in the output after chunk `since`."""
        return self.wait_for_first([marker], timeout, since)[1]

    def wait_for_first(
        self, markers: list[bytes], timeout: float = 60.0, since: int = 0
    ) -> tuple[bytes, float]:
        """The first of `markers` to appear in the output after chunk `since`, and the arrival time of the
        chunk that completed it."""
        deadline = time.perf_counter() + timeout
        keep = max(len(marker) for marker in markers) + 4096
        seen = b""
        index = since
        while time.perf_counter() < deadline:
            with self.lock:
                fresh = self.chunks[index:]
            for when, data in fresh:
                seen = seen[-keep:] + data
                index += 1
                for marker in markers:
                    if marker in seen:
                        return marker, when
            time.sleep(0.002)
        raise TimeoutError(f"none of {markers!r} appeared in {timeout} s")

    def wait_for_screen(self, text: str, timeout: float = 60.0) -> float:
        """The arrival time of the chunk after which the terminal *shows* `text` on one of its lines.

        For programs that draw a line in pieces (tcell, as aerc does, moves the cursor over cells it keeps),
        so that no byte string of the output holds the text whole: the output goes through a terminal
        emulator (pyte) and its screen is read, as a person would read it."""
        import pyte

        screen = pyte.Screen(COLUMNS, ROWS)
        stream = pyte.ByteStream(screen)
        deadline = time.perf_counter() + timeout
        index = 0
        while time.perf_counter() < deadline:
            with self.lock:
                fresh = self.chunks[index:]
            for when, data in fresh:
                index += 1
                stream.feed(data)
                if any(text in line for line in screen.display):
                    return when
            time.sleep(0.002)
        raise TimeoutError(f"{text!r} did not show on the screen in {timeout} s")

    def send(self, keys: bytes) -> tuple[float, int]:
        with self.lock:
            index = len(self.chunks)
        sent = time.perf_counter()
        os.write(self.master, keys)
        return sent, index

    def first_output_after(self, index: int, timeout: float = 2.0) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if len(self.chunks) > index:
                    return self.chunks[index][0]
            time.sleep(0.0005)
        return None

    def quiet_for(self, seconds: float, timeout: float = 5.0) -> float:
        """Wait until no output came for `seconds`; returns the time of the last chunk."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                last = self.chunks[-1][0] if self.chunks else 0.0
            if time.perf_counter() - last >= seconds:
                return last
            time.sleep(0.005)
        return last

    def stop(self, quit_keys: bytes = b"\x11", timeout: float = 10.0) -> None:
        """Quit with `quit_keys` (the console's ctrl+q: a clean exit writes the stats file), killed if it lingers."""
        if self.process.poll() is None:
            os.write(self.master, quit_keys)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._stop = True
        self._reader.join(timeout=1)
        os.close(self.master)


def console_env(tmp: Path) -> dict[str, str]:
    """The environment of a console under benchmark: this pty's size, and its own config and data in `tmp`."""
    (tmp / "config.toml").write_text('agent = "bench"\nbell = false\n', encoding="utf-8")
    return dict(
        os.environ,
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
        STANDARDISTE_CONFIG=str(tmp / "config.toml"),
        STANDARDISTE_DATA=str(tmp / "data"),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
