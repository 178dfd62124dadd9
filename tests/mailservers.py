"""Real mail servers on 127.0.0.1 for the IMAP adapter's tests: pymap (IMAP) and aiosmtpd (SMTP).

pymap runs in a child process with its maildir backend in a temporary directory, so it can be stopped and
started again with the mailbox intact (UIDVALIDITY and UIDs survive, as on a real server). Its IDLE can be
switched off by removing the capability before it starts: a real server without IDLE, for the polling path.
It can also speak STARTTLS with a certificate from a throwaway CA made here. pymap does not offer CONDSTORE
nor PERMANENTFLAGS \\*, so with it the adapter keeps marks in its local table.

Test modules build their fixtures from `running_imap` and `running_smtp` (context managers), so that each
module shows what it starts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import grp
import hashlib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient
from standardiste.backends.base import BackendContext, Event, MessageAdded
from standardiste.backends.imap import ImapBackend

__all__ = [
    "PASSWORD",
    "USER",
    "Collector",
    "DovecotServer",
    "ImapServer",
    "ReceivedMail",
    "SmtpServer",
    "TlsFiles",
    "dovecot_binary",
    "free_port",
    "mail",
    "make_backend",
    "make_certificates",
    "running_dovecot",
    "running_imap",
    "running_smtp",
    "settings_for",
]

USER = "support@shop.test"
PASSWORD = "s3cret-Pa55"

# Runs pymap's command line, optionally without the IDLE capability (pymap has no switch for it).
_LAUNCHER = r"""
import sys
if sys.argv[1] == "no-idle":
    from pymap.backend.maildir import Config
    from pymap.config import BackendCapability
    Config.backend_capability = property(
        lambda self: BackendCapability(idle=False, object_id=True, multi_append=True)
    )
sys.argv = ["pymap", *sys.argv[2:]]
from pymap.main import main
main()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pbkdf2(password: str, rounds: int = 1000) -> str:
    """pymap's own hash format, with few rounds: a login must not cost half a second in tests."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path, host: str = "127.0.0.1") -> TlsFiles:
    """A throwaway CA and a server certificate for `host` signed by it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "standardiste test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


class _ClientSide:
    """What a test does to a server as another mail client would."""

    host: str
    port: int
    user: str
    password: str
    tls: TlsFiles | None

    process: subprocess.Popen[bytes] | None = None

    def _wait_for_greeting(self, name: str, log: Path, timeout: float) -> None:
        """Until the server answers `* OK` on its port; its log's tail if it dies first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), 0.2) as sock:
                    sock.settimeout(2.0)
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start on port {self.port}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def client(self) -> IMAPClient:
        """Another mail client on the same mailbox (a colleague's, or the MTA delivering)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        if self.tls is not None:
            client.starttls(ssl.create_default_context(cafile=str(self.tls.ca)))
        client.login(self.user, self.password)
        return client

    @contextlib.contextmanager
    def session(self) -> Iterator[IMAPClient]:
        client = self.client()
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver(self, raw: bytes | str, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        """APPEND a message as a delivery would; returns its UID."""
        data = raw.encode() if isinstance(raw, str) else raw
        with self.session() as client:
            response = client.append(folder, data, flags=flags)
        text = response.decode() if isinstance(response, bytes) else str(response)
        return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))

    def create_folder(self, folder: str) -> None:
        with self.session() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)

    def messages(self, folder: str) -> list[EmailMessage]:
        with self.session() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, [b"BODY.PEEK[]"]) if uids else {}
        found = []
        for uid in sorted(fetched):
            parsed = message_from_bytes(fetched[uid][b"BODY[]"], policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        with self.session() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, [b"FLAGS"]) if uids else {}
        return {uid: {f.decode() for f in data[b"FLAGS"]} for uid, data in fetched.items()}


@dataclass
class ImapServer(_ClientSide):
    """pymap with a maildir in `base`; `start()`/`stop()` as often as needed, on the same port."""

    base: Path
    idle: bool = True
    tls: TlsFiles | None = None
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def __post_init__(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        home = "mail"
        (self.base / "pymap-etc-passwd").write_text(f"{self.user}:x::::{home}:\n")
        (self.base / "pymap-etc-shadow").write_text(f"{self.user}:{_pbkdf2(self.password)}:::::\n")
        self.log = self.base / "pymap.log"

    def start(self, timeout: float = 15.0) -> None:
        args = [
            sys.executable,
            "-c",
            _LAUNCHER,
            "idle" if self.idle else "no-idle",
            "--no-service",
            "admin",
            "--no-service",
            "managesieve",
            "--no-service",
            "swim",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        if self.tls is not None:
            args += ["--cert", str(self.tls.cert), "--key", str(self.tls.key)]
        else:
            args.append("--no-tls")
        args += ["maildir", str(self.base)]
        assert self.log is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "FQDN": "localhost"}
            )
        self._wait_for_greeting("pymap", self.log, timeout)

    def drop_into_maildir(self, raw: bytes) -> None:
        """Deliver as the MTA does, straight into the maildir: works while the IMAP server is down."""
        new = self.base / "mail" / "new"
        new.mkdir(parents=True, exist_ok=True)
        (new / f"{int(time.time())}.{os.urandom(8).hex()}.mta").write_bytes(raw)


_DOVECOT_CONF = """
base_dir = {base}/run
state_dir = {base}/state
instance_name = standardiste-test-{port}
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = sdbox:~/mail
first_valid_uid = 1
default_internal_user = {internal_user}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={base}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )


@dataclass
class DovecotServer(_ClientSide):
    """Dovecot (Debian's dovecot-imapd) in `base`: PERMANENTFLAGS \\*, CONDSTORE, QRESYNC, IDLE, UIDPLUS.

    As root it runs its processes as dovecot/dovenull and the mail as nobody; otherwise as the current user.
    """

    base: Path
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    tls: TlsFiles | None = None
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
        self.binary = binary
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        (self.base / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        if os.geteuid() == 0:
            internal, login, mail_user, mail_group = "dovecot", "dovenull", "nobody", "nogroup"
            os.chown(self.base / "home", pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            internal = login = mail_user = me
            mail_group = grp.getgrgid(os.getgid()).gr_name
        self.config = self.base / "dovecot.conf"
        self.config.write_text(
            _DOVECOT_CONF.format(
                base=self.base,
                port=self.port,
                internal_user=internal,
                login_user=login,
                mail_user=mail_user,
                mail_group=mail_group,
            )
        )

    def start(self, timeout: float = 15.0) -> None:
        with (self.base / "stdout.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_for_greeting("dovecot", self.base / "stdout.log", timeout)

    def kick(self) -> None:
        """Drop every connection of the user (an admin's `doveadm kick`, or a failover)."""
        doveadm = shutil.which("doveadm") or str(Path(self.binary).with_name("doveadm"))
        subprocess.run([doveadm, "-c", str(self.config), "kick", self.user], check=True, capture_output=True)


@contextlib.contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """A started Dovecot in a fresh directory of its own, removed on exit.

    Not under pytest's tmp_path: that is private to the test user (0700), and Dovecot's own processes run as
    other users that must read the password file and write the mail.
    """
    base = Path(tempfile.mkdtemp(prefix="standardiste-dovecot-"))
    try:
        server = DovecotServer(base)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Recorder:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        with self.arrived:
            self.received.append(
                ReceivedMail(
                    str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b"")
                )
            )
            self.arrived.notify_all()
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free port with AUTH (the same user and password as the mailbox)."""

    def __init__(self, *, user: str = USER, password: str = PASSWORD, tls: TlsFiles | None = None) -> None:
        self.user, self.password = user, password
        self.recorder = _Recorder()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.logins: list[str] = []
        tls_context = None
        if tls is not None:
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(str(tls.cert), str(tls.key))
        self.controller = Controller(
            self.recorder,
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=tls is not None,
            tls_context=tls_context,
            require_starttls=False,
        )

    def _authenticate(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            ok = auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
            if ok:
                self.logins.append(self.user)
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    @property
    def received(self) -> list[ReceivedMail]:
        return self.recorder.received

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        with self.recorder.arrived:
            self.recorder.arrived.wait_for(lambda: len(self.recorder.received) >= count, timeout)
        return list(self.recorder.received)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@contextlib.contextmanager
def running_imap(base: Path, **options: Any) -> Iterator[ImapServer]:
    """A started pymap with a Sent folder (as most servers have), stopped on exit."""
    server = ImapServer(base, **options)
    server.start()
    try:
        server.create_folder("Sent")
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_smtp(**options: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- the adapter

E = TypeVar("E", bound=Event)


def settings_for(imap: ImapServer | DovecotServer, smtp: SmtpServer | None, **extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "backend": "imap",
        "host": imap.host,
        "port": imap.port,
        "security": "plain" if imap.tls is None else "starttls",
        "user": USER,
        "from": USER,
        "from_name": "Shop support",
        "poll_seconds": 0.5,
        "timeout": 5,
    }
    if imap.tls is not None:
        table["ca_file"] = str(imap.tls.ca)
    if smtp is not None:
        table |= {"smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_security": "plain"}
    return table | extra


def make_backend(
    imap: ImapServer | DovecotServer,
    smtp: SmtpServer | None,
    data_dir: Path,
    *,
    agent: str = "alice",
    password: str = PASSWORD,
    name: str = "mail",
    **extra: Any,
) -> ImapBackend:
    context = BackendContext(agent_id=agent, data_dir=data_dir, secret=lambda workspace: password)
    backend = ImapBackend.from_config(name, settings_for(imap, smtp, **extra), context)
    assert isinstance(backend, ImapBackend)
    # Fast reconnects and short IDLE checks: the tests wait seconds, not minutes.
    backend._idle_tick = 0.5
    backend._retry = (0.3, 2.0)
    backend._sent_every = 0.5
    return backend


class Collector:
    """Drains `backend.events()` into a list in the background."""

    def __init__(self, backend: ImapBackend) -> None:
        self.backend = backend
        self.events: list[Event] = []
        self.stamps: list[float] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for batch in self.backend.events():
            now = time.monotonic()
            self.events.extend(batch)
            self.stamps.extend(now for _ in batch)
            self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def messages(self) -> list[MessageAdded]:
        return self.of(MessageAdded)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; events so far: {self.events!r}"[:4000])
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    async def ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.backend.watcher is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert self.backend.watcher is not None
        await asyncio.wait_for(self.backend.watcher.ready.wait(), max(0.1, deadline - time.monotonic()))

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


def mail(
    subject: str,
    body: str = "Hello",
    *,
    sender: str = "Ann Customer <ann@customer.test>",
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    extra: str = "",
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {USER}",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "Date: Mon, 06 Jan 2025 10:00:00 +0100",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()
