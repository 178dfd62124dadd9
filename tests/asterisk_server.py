"""A real Asterisk 22 on 127.0.0.1 for the Asterisk adapter's tests, in a chroot made from Debian's packages.

Asterisk is packaged only in Debian sid, whose libc the host does not have, so it runs in a chroot:
tests/helpers/asterisk_chroot.sh builds one (debootstrap trixie + sid's asterisk) and caches it as a tar.zst,
this module extracts that archive once per test session (1-2 s), writes the configuration (ARI on a free
port, a Stasis dialplan for customers, agents' phones that answer), starts Asterisk, waits for ARI, and stops
it. Recipe and surprises: ../shared/SERVERS.md, "Asterisk 22 with ARI".

The dialplan the tests use (written by `_extensions`):

- `[from-customer-ring]` `_X.` and `_+X.`: the customer's call enters the Stasis application, ringing, with
  the queue argument (`queue-sales`...) the test passes as the channel variable QUEUE_ARG, and `callback`
  after it for a caller who asked to be called back (CALLBACK=1);
- `[from-customer-team]`: the same for a team's consoles, trying again while no console holds the
  application;
- `[caller]` `s`: the customer's own phone, which answers and listens to hold music;
- `[agent-phones]`: agents' phones as Local channels: any name answers (then echoes), `noanswer` rings for
  ever, `busy` is busy, `gone` does not exist;
- `[customers]`: the outside world for callbacks: a number answers, `+000...` never answers.

Needs root (chroot). Without the archive or root, `asterisk_available()` says why; the `asterisk` fixture
then skips, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = [
    "APP",
    "ARI_PASSWORD",
    "ARI_USER",
    "AsteriskServer",
    "asterisk",
    "asterisk_available",
    "chroot_archive",
    "free_port",
    "running_asterisk",
]

APP = "standardiste"
ARI_USER = "console"
ARI_PASSWORD = "ari-Pa55-word"
HELPER = Path(__file__).parent / "helpers" / "asterisk_chroot.sh"
# Channel variables every ARI channel carries in its JSON (ari.conf channelvars): the adapter reads the
# customer's messages from it after a reconnect, when the ChannelVarset events of the gap are gone.
CHANNEL_VARS = "STANDARDISTE_MESSAGES"


def chroot_archive() -> Path:
    default = Path.home() / ".cache" / "standardiste" / "asterisk-chroot.tar.zst"
    return Path(os.environ.get("STANDARDISTE_ASTERISK_CHROOT", default))


def asterisk_available() -> str | None:
    """None when the tests can run Asterisk here, else why not (for a skip outside CI, a failure in CI)."""
    if os.geteuid() != 0:
        return "the Asterisk chroot needs root"
    if shutil.which("zstd") is None:
        return "zstd is not installed (apt-get install zstd)"
    if not chroot_archive().is_file():
        return f"no Asterisk chroot at {chroot_archive()} (build it: {HELPER})"
    return None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_NOLOAD = (
    "chan_iax2.so",  # else it listens on 0.0.0.0:4569
    "chan_alsa.so",  # these three look for sound cards and JACK, and only log noise
    "chan_console.so",
    "chan_oss.so",
    "chan_dahdi.so",
    "chan_mobile.so",
    "res_odbc.so",
    "res_odbc_transaction.so",
    "cdr_odbc.so",
    "cdr_adaptive_odbc.so",
    "cel_odbc.so",
    "func_odbc.so",
    "res_config_odbc.so",
    "res_config_ldap.so",
    "res_hep.so",
    "res_hep_pjsip.so",
    "res_hep_rtcp.so",
    "res_corosync.so",
    "res_config_pgsql.so",
    "cdr_pgsql.so",
    "cel_pgsql.so",
    "res_statsd.so",
    "res_prometheus.so",
    "res_xmpp.so",
    "chan_motif.so",
    "res_calendar.so",
    "res_calendar_caldav.so",
    "res_calendar_ews.so",
    "res_calendar_exchange.so",
    "res_calendar_icalendar.so",
    "chan_unistim.so",
    "chan_skinny.so",
    "chan_mgcp.so",
    "res_pjsip_phoneprov_provider.so",
    "res_phoneprov.so",
    "cdr_radius.so",
    "cel_radius.so",
    "cdr_tds.so",
    "cel_tds.so",
    "res_snmp.so",
    "cdr_sqlite3_custom.so",
    "cel_sqlite3_custom.so",
)


def _extensions(app: str) -> str:
    return f"""\
[general]
static=yes
writeprotect=no

[from-customer-ring]
; no Answer(): the ;2 half enters the application ringing, and only the application answers it
exten => _X.,1,Stasis({app},${{QUEUE_ARG}}${{IF($["${{CALLBACK}}" = "1"]?,callback)}})
 same => n,Hangup()
exten => _+X.,1,Stasis({app},${{QUEUE_ARG}}${{IF($["${{CALLBACK}}" = "1"]?,callback)}})
 same => n,Hangup()

[from-customer-team]
; a team's customers (docs/asterisk.md, "A team"): while no console holds the application (one handing
; it on to another), Stasis() fails at once, and the caller tries again a moment later, for 10 s
exten => _X.,1,Set(TRIES=0)
 same => n(again),Stasis({app},${{QUEUE_ARG}}${{IF($["${{CALLBACK}}" = "1"]?,callback)}})
 same => n,GotoIf($["${{STASISSTATUS}}" = "FAILED" & ${{TRIES}} < 40]?wait)
 same => n,Hangup()
 same => n(wait),Set(TRIES=$[${{TRIES}} + 1])
 same => n,Wait(0.25)
 same => n,Goto(again)

[caller]
exten => s,1,Answer()
 same => n,MusicOnHold(default)

[agent-phones]
exten => noanswer,1,Ringing()
 same => n,Wait(600)
exten => busy,1,Busy(5)
exten => _[a-z].,1,Answer()
 same => n,Echo()

[customers]
exten => _+000.,1,Ringing()
 same => n,Wait(600)
exten => _+X.,1,Answer()
 same => n,MusicOnHold(default)
exten => _X.,1,Answer()
 same => n,MusicOnHold(default)
"""


def _pjsip(sip_port: int, phone_port: int) -> str:
    """A UDP transport on 127.0.0.1, and one agent's SIP phone at a static contact (no registration)."""
    return f"""\
[transport-udp]
type=transport
protocol=udp
bind=127.0.0.1:{sip_port}

[sipagent]
type=aor
contact=sip:sipagent@127.0.0.1:{phone_port}
max_contacts=1

[sipagent]
type=endpoint
transport=transport-udp
context=agent-phones
disallow=all
allow=ulaw
aors=sipagent
direct_media=no
rtp_symmetric=yes
"""


def _die_with_parent() -> None:
    """In the child before exec: Asterisk gets SIGTERM when the test process dies, even killed by a
    timeout that skips every finaliser (pytest-timeout ends with os._exit), so none is left running."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class AsteriskServer:
    """One Asterisk in an extracted chroot under `base`; `start`/`stop` may be repeated (a restart)."""

    base: Path
    app: str = APP
    user: str = ARI_USER
    password: str = ARI_PASSWORD
    http_port: int = field(default_factory=free_port)
    sip_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    # Where the SIP phone of the endpoint `sipagent` answers (tests/helpers/asterisk_sip.py binds it).
    phone_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/ari"

    def extract(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "--zstd", "-xf", str(chroot_archive()), "-C", str(self.root)], check=True)
        self.write_configs()

    def write_configs(self) -> None:
        etc = self.root / "etc" / "asterisk"
        files = {
            "http.conf": f"[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={self.http_port}\n",
            "ari.conf": (
                f"[general]\nenabled=yes\nchannelvars={CHANNEL_VARS}\n\n"
                f"[{self.user}]\ntype=user\nread_only=no\npassword={self.password}\npassword_format=plain\n"
            ),
            "modules.conf": "[modules]\nautoload=yes\n" + "".join(f"noload => {m}\n" for m in _NOLOAD),
            "pjsip.conf": _pjsip(self.sip_port, self.phone_port),
            "manager.conf": "[general]\nenabled=no\nbindaddr=127.0.0.1\n",
            "extensions.conf": _extensions(self.app),
            "musiconhold.conf": ("[default]\nmode=files\ndirectory=/usr/share/asterisk/moh\n"),
            "logger.conf": "[general]\n[logfiles]\nmessages.log => notice,warning,error\n",
            "cdr.conf": "[general]\nenable=no\n",
            "rtp.conf": "[general]\nrtpstart=30000\nrtpend=30999\n",
        }
        for name, text in files.items():
            (etc / name).write_text(text)
        # The sample configs of unused modules listen on ports (e.g. ooh323, sip): keep only ours.
        for stale in ("iax.conf", "sip.conf", "ooh323.conf", "unistim.conf", "skinny.conf", "mgcp.conf"):
            (etc / stale).unlink(missing_ok=True)
        (self.root / "run" / "asterisk").mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 20.0) -> None:
        assert self.process is None, "already running"
        log = open(self.base / "asterisk.out", "ab")  # noqa: SIM115 - kept open for the child's life
        self.process = subprocess.Popen(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-f", "-q"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stop() reaches the chroot's children too
            # The parent-death signal follows the thread that forks, not the process: from a worker thread
            # (asyncio.to_thread) Asterisk would die with that thread. Tests start it from the main thread.
            preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"asterisk exited with {self.process.returncode}: {self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                reply = httpx.get(f"{self.url}/asterisk/info", auth=(self.user, self.password), timeout=1)
                if reply.status_code == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ARI did not answer within {timeout} s: {self.tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def tail(self, lines: int = 30) -> str:
        out = []
        for name in (self.base / "asterisk.out", self.root / "var" / "log" / "asterisk" / "messages.log"):
            if name.is_file():
                out += name.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out)

    # ------------------------------------------------------------------------------ ARI, for the tests

    def ari(self, method: str, path: str, **params: Any) -> Any:
        """One ARI request as the outside world makes it (its own connection); the JSON reply or None."""
        reply = httpx.request(
            method, f"{self.url}{path}", params=params, auth=(self.user, self.password), timeout=10
        )
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def cli(self, command: str) -> str:
        done = subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-rx", command],
            capture_output=True,
            text=True,
            timeout=20,
        )
        return done.stdout

    def hang_up_all(self) -> None:
        """Between tests: no call of one test lingers into the next."""
        for channel in self.ari("GET", "/channels"):
            with contextlib.suppress(httpx.HTTPStatusError):
                self.ari("DELETE", f"/channels/{channel['id']}")

    def call(
        self,
        number: str,
        name: str,
        queue_arg: str = "queue-sales",
        *,
        callback: bool = False,
        exten: str = "101",
        context: str = "from-customer-ring",
    ) -> dict[str, Any]:
        """A customer calls: a Local channel whose ;2 half enters the application ringing with the queue
        argument, whose ;1 half is the customer's phone (answering, on hold music). The ;1 channel."""
        variables = f'{{"variables": {{"QUEUE_ARG": "{queue_arg}", "CALLBACK": "{int(callback)}"}}}}'
        reply = httpx.post(
            f"{self.url}/channels",
            params={
                "endpoint": f"Local/{exten}@{context}",
                "context": "caller",
                "extension": "s",
                "callerId": f'"{name}" <{number}>',
            },
            content=variables,
            headers={"Content-Type": "application/json"},
            auth=(self.user, self.password),
            timeout=10,
        )
        reply.raise_for_status()
        return dict(reply.json())


@contextlib.contextmanager
def running_asterisk(base: Path | None = None) -> Iterator[AsteriskServer]:
    """An Asterisk started in a fresh copy of the chroot, stopped and removed afterwards."""
    made = base is None
    where = Path(tempfile.mkdtemp(prefix="asterisk-")) if base is None else base
    server = AsteriskServer(where)
    try:
        server.extract()
        server.start()
        yield server
    finally:
        server.stop()
        if made:
            shutil.rmtree(where, ignore_errors=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# One Asterisk for the whole session, however many test modules import the fixture (each import is a fixture
# definition of its own to pytest, and the machine runs one Asterisk at a time).
_shared: list[AsteriskServer] = []


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskServer]:
    """The session's Asterisk, with no call left over from the test before. In CI a missing Asterisk
    fails the test; elsewhere it skips it, saying what to build."""
    if not _shared:
        missing = asterisk_available()
        if missing is not None:
            if in_ci():
                pytest.fail(f"Asterisk is required in CI: {missing}")
            pytest.skip(missing)
        server = AsteriskServer(tmp_path_factory.mktemp("asterisk"))
        server.extract()
        server.start()
        _shared.append(server)
        import atexit

        def done(server: AsteriskServer = server) -> None:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)  # 345 MB: pytest keeps its last three basetemps

        atexit.register(done)  # the last module's teardown is not known: stop at the session's end
    server = _shared[0]
    if server.process is None:  # a test stopped it and failed before starting it again
        server.start()
    yield server
