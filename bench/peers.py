"""standardiste beside neomutt and aerc, in one run, on a real pseudo-terminal of the same size.

    .venv/bin/python bench/peers.py [--count 100000] [--runs 3] [--keys 40] [--smoke]

Each program gets the same number of items: standardiste a workspace of `--count` open conversations
(bench/_data.py), neomutt and aerc a Maildir of `--count` messages. Installs neomutt and aerc from Debian when
they are missing (as root with apt-get); a program that cannot be found is reported, not guessed.

- ready: from starting the process to the whole list on screen: standardiste's "All N" tab count (the full
  queue loaded and sorted), neomutt's "Msgs:N" status (every message read), aerc's newest subject (the folder
  listed and sorted; aerc then reads only the headers it shows). Median of `--runs`.
- key `j`: the time from writing `j` to the pty to the first byte of the repaint, sent after a quiet moment
  so that a periodic repaint is never taken for the answer; p50 and p95 over every run's keys.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import COLUMNS, ROWS, PtyProcess, percentile

ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "Where is my parcel? #{}"


@dataclass(frozen=True)
class Peer:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: str  # what shows on the screen once the whole list is there
    quit_keys: bytes


def install_missing() -> None:
    missing = [name for name in ("neomutt", "aerc") if shutil.which(name) is None]
    if not missing or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    print(f"installing {', '.join(missing)} from Debian…", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, check=False)


def write_maildir(root: Path, count: int) -> Path:
    """`count` small read messages in root/INBOX, one per 30 s, the newest last."""
    for part in ("cur", "new", "tmp"):
        (root / "INBOX" / part).mkdir(parents=True, exist_ok=True)
    base = 1_764_000_000
    cur = root / "INBOX" / "cur"
    for i in range(count):
        moment = base + i * 30
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(moment))
        (cur / f"{moment}.{i}.bench:2,S").write_text(
            f"From: Customer {i} <c{i}@example.com>\nTo: support@example.com\n"
            f"Subject: {SUBJECT.format(100000 + i)}\nDate: {date}\nMessage-ID: <m{i}@example.com>\n\n"
            "Hello, where is my parcel?\n",
            encoding="utf-8",
        )
    return root


def peers(tmp: Path, count: int) -> list[Peer]:
    from _data import make_workspace

    base_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
    found: list[Peer] = []
    db = make_workspace(tmp / "bench.db", count)
    (tmp / "config.toml").write_text('agent = "bench"\nbell = false\n', encoding="utf-8")
    console_env = dict(base_env, STANDARDISTE_CONFIG=str(tmp / "config.toml"), STANDARDISTE_DATA=str(tmp / "data"))
    found.append(
        Peer(
            "standardiste",
            [sys.executable, "-m", "standardiste", "--db", str(db), "--agent", "bench"],
            console_env,
            f"All {count}",
            b"\x11",
        )
    )
    maildir = write_maildir(tmp / "mail", count)
    newest = SUBJECT.format(100000 + count - 1)
    if shutil.which("neomutt"):
        muttrc = tmp / "muttrc"
        muttrc.write_text(
            "set mbox_type=Maildir\n"
            f"set folder={maildir}\nset spoolfile={maildir}/INBOX\n"
            'set sort=reverse-date\nset header_cache=""\nset mail_check_stats=no\nset quit=yes\n'
            "set wait_key=no\nset timeout=600\n",
            encoding="utf-8",
        )
        found.append(
            Peer("neomutt", ["neomutt", "-n", "-F", str(muttrc)], base_env, f"Msgs:{count}", b"q")
        )
    else:
        print("neomutt: not installed, left out")
    if shutil.which("aerc"):
        config = tmp / "xdg" / "aerc"
        config.mkdir(parents=True)
        accounts = config / "accounts.conf"
        accounts.write_text(
            f"[bench]\nsource = maildir://{maildir}\ndefault = INBOX\nfrom = Bench <bench@example.com>\n",
            encoding="utf-8",
        )
        accounts.chmod(0o600)  # aerc refuses a readable accounts.conf
        (config / "aerc.conf").write_text("", encoding="utf-8")
        (config / "binds.conf").write_text("", encoding="utf-8")
        env = dict(base_env, XDG_CONFIG_HOME=str(tmp / "xdg"))
        found.append(Peer("aerc", ["aerc"], env, newest, b":quit\r"))
    else:
        print("aerc: not installed, left out")
    return found


def key_latencies(child: PtyProcess, keys: int) -> list[float]:
    """`j` then `k`, each after 0.15 s of quiet (the same procedure as bench/workspace.py)."""
    latencies: list[float] = []
    direction = b"j"
    while len(latencies) < keys:
        child.quiet_for(0.15)
        for _ in range(3):
            sent, index = child.send(direction)
            answered = child.first_output_after(index)
            if answered is not None:
                latencies.append(answered - sent)
            direction = b"k" if direction == b"j" else b"j"
            time.sleep(0.08)
    return latencies[:keys]


def measure(peer: Peer, runs: int, keys: int) -> tuple[float, list[float]]:
    readies: list[float] = []
    moves: list[float] = []
    for _ in range(runs):
        child = PtyProcess(peer.argv, peer.env)
        try:
            # Read off an emulated screen: aerc (tcell) draws a line in pieces, so no byte string holds it.
            readies.append(child.wait_for_screen(peer.ready, timeout=180) - child.started)
            time.sleep(0.5)
            moves += key_latencies(child, keys)
        finally:
            child.stop(peer.quit_keys, timeout=5)
    return statistics.median(readies), moves


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="a quick run: 2,000 items, one run, few keys")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.runs, args.keys = 2000, 1, 6
    install_missing()
    with tempfile.TemporaryDirectory() as name:
        found = peers(Path(name), args.count)
        print(f"{args.count:,} items each, {COLUMNS}×{ROWS} pty, {args.runs} runs, {args.keys} keys a run")
        print(f"{'':14}{'ready (whole list on screen)':>30}{'key j p50 / p95':>22}")
        for peer in found:
            try:
                ready, moves = measure(peer, args.runs, args.keys)
            except TimeoutError as error:
                print(f"{peer.name:14}not measured: {error}", flush=True)
                continue
            print(
                f"{peer.name:14}{ready:>29.2f}s"
                f"{percentile(moves, 0.5) * 1000:>13.1f} / {percentile(moves, 0.95) * 1000:.1f} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
