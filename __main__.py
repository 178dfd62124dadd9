"""Command line: `standardiste` opens the console; subcommands simulate, supervise, backends, login.

Imports are lazy: `standardiste backends` must not import any adapter, and the console's first frame must
not wait for modules it does not use.

Whatever the command, an unexpected exception ends the process with status 1, one line on stderr naming
the error and the log file, and the full traceback in that file (console/core/logfile.py); so does a crash
inside the console or the wallboard, which Textual shows on the screen but would otherwise end with 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from collections.abc import MutableMapping
from pathlib import Path

DESCRIPTION = """\
standardiste: phone queue, chat sessions and email inbox in one keyboard-driven terminal workspace.

Without a subcommand it opens the agent console on the workspaces of your config file, or on the
embedded local workspace (one SQLite file shared by every console on this machine)."""

EPILOG = """\
subcommands:
  simulate     feed a local workspace with realistic simulated traffic
  supervise    open the supervisor wallboard (or print figures as JSON with --json)
  search       find conversations, open and closed, by words, "phrases" and fields (state:solved ...)
  backends     list the installed backend adapters
  login        store the password or token of a configured workspace in the system keyring

examples:
  standardiste --demo                          a fresh workspace with live simulated traffic
  standardiste --db team.db --agent alice      the console of agent alice on a shared workspace file
  standardiste simulate --db team.db --rate 120 --profile christmas
  standardiste supervise --db team.db
  standardiste search --db team.db 'remboursement state:solved after:2026-12-01'
  standardiste login mail

log file: errors and crashes are written to {log}
  (STANDARDISTE_LOG names another file)
"""


def version() -> str:
    """The installed distribution's version; a source tree run without installing falls back to 0.0."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("standardiste")
    except PackageNotFoundError:
        from . import __version__

        return __version__


class _VersionAction(argparse.Action):
    """Looks the version up only when asked: importlib.metadata cost every start 6 ms."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from .console.core.logfile import log_path

    parser = argparse.ArgumentParser(
        prog="standardiste",
        description=DESCRIPTION,
        epilog=EPILOG.format(log=log_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action=_VersionAction, nargs=0, help="show the version and exit")
    parser.add_argument(
        "--db",
        help="the workspace: a file (default: in your user data directory), or a team's PostgreSQL database "
        "as postgresql://user@host/dbname",
    )
    parser.add_argument("--agent", help="your agent id (default: from the config file, else your login name)")
    parser.add_argument(
        "--config", type=Path, help="the config file (default: in your user config directory)"
    )
    parser.add_argument(
        "--demo", action="store_true", help="a fresh temporary workspace with simulated traffic"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=12.0,
        help="with --demo: contacts per minute (default 12, for ten colleagues and you)",
    )
    parser.add_argument("--seed", type=int, help="with --demo: make the simulated traffic reproducible")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    simulate = sub.add_parser(
        "simulate",
        help="feed a local workspace with simulated traffic",
        description="Feed a local workspace with realistic contacts.",
    )
    simulate.add_argument(
        "--db", help="the workspace file or postgresql:// database (default: your data directory)"
    )
    simulate.add_argument("--rate", type=float, default=2.0, help="contacts per minute (default 2)")
    simulate.add_argument("--profile", choices=("normal", "christmas"), default="normal")
    simulate.add_argument("--seed", type=int, help="the same seed gives the same traffic")
    simulate.add_argument(
        "--backfill",
        type=int,
        default=0,
        metavar="N",
        help="insert N contacts at once, spread over past hours, then go on",
    )
    simulate.add_argument(
        "--backfill-hours",
        type=float,
        default=8.0,
        metavar="H",
        help="the backfill's contacts are spread over the past H hours (default 8: a day's shift; "
        "a workspace of months: most contacts closed long ago)",
    )
    simulate.add_argument("--scenario", type=Path, metavar="FILE.jsonl", help="replay a scenario file")
    simulate.add_argument("--duration", type=float, help="stop after this many seconds")
    simulate.add_argument(
        "--asterisk",
        metavar="WORKSPACE",
        help='instead: customers calling the real Asterisk of this [workspaces.NAME] (backend = "asterisk"), '
        "into its queues; --rate is then calls per minute",
    )
    simulate.add_argument(
        "--calls", type=int, default=10, help="with --asterisk: how many calls (default 10)"
    )
    simulate.add_argument(
        "--hangup-after", type=float, metavar="S", help="with --asterisk: callers give up after S seconds"
    )
    simulate.add_argument(
        "--callbacks",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="with --asterisk: the share asking a callback",
    )

    supervise = sub.add_parser(
        "supervise",
        help="the supervisor wallboard",
        description="Live wallboard of the queue, agents, service level and CSAT.",
    )
    supervise.add_argument(
        "--db", help="the workspace file or postgresql:// database (default: in your user data directory)"
    )
    supervise.add_argument(
        "--json", action="store_true", help="print one JSON object of figures per interval"
    )
    supervise.add_argument("--interval", type=float, default=1.0, help="seconds between updates (default 1)")
    supervise.add_argument("--count", type=int, help="with --json: stop after N objects")
    supervise.add_argument("--act", action="store_true", help="allow acting (presence, skills, moves)")

    search = sub.add_parser(
        "search",
        help="find conversations, open and closed, from the shell",
        description="Search every conversation of a local workspace: words (accents and case folded, the last "
        'one a prefix), "phrases", and the / filter\'s fields (lang: channel: state: tag: queue: owner: prio: '
        "customer:) plus after:/before: YYYY-MM-DD. Exit 0 with hits, 1 with none, 2 on a bad query or file.",
    )
    search.add_argument("--db", help="the workspace file (default: in your user data directory)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit, one per line")
    search.add_argument("--limit", type=int, default=20, help="at most N hits (default 20)")
    search.add_argument("--agent", help="who owner:me is (default: your login name)")
    search.add_argument("query", nargs="+", help="the query (several arguments are joined by spaces)")

    sub.add_parser(
        "backends",
        help="list the installed backend adapters",
        description="List the installed adapters (entry points), without importing them.",
    )

    login = sub.add_parser(
        "login",
        help="store a workspace's secret in the keyring",
        description="Store the secrets (a password, a token) that the adapter of [workspaces.NAME] declares.",
    )
    login.add_argument("workspace", help="the workspace name, as in [workspaces.NAME] of the config file")
    login.add_argument(
        "--stdin", action="store_true", help="read the secrets from standard input, one line each"
    )
    return parser


def respect_dumb_terminal(environ: MutableMapping[str, str]) -> None:
    """TERM=dumb means no colour, as NO_COLOR does: Textual reads NO_COLOR (monochrome), but with TERM=dumb
    Rich finds no colour system and Textual then writes truecolor. So a dumb terminal is given NO_COLOR and the
    16-colour system (Textual reads TEXTUAL_COLOR_SYSTEM once, when imported: this runs before any import of
    it). What the user set stays."""
    if environ.get("TERM", "").strip().lower() == "dumb":
        environ.setdefault("NO_COLOR", "1")
        environ.setdefault("TEXTUAL_COLOR_SYSTEM", "standard")


def prefer_quick_frames(environ: MutableMapping[str, str]) -> None:
    """Frames up to 120 a second rather than Textual's 60. A key whose answer takes a second frame (`j` then
    enter: the cursor, then the conversation it opens) waited up to 17 ms for the next 60 Hz slot; a frame
    draws only what changed, so more of them cost little. What the user set stays (read once, when
    Textual is imported: this runs before)."""
    environ.setdefault("TEXTUAL_FPS", "120")


def hand_over_sooner() -> None:
    """The interpreter lets a waiting thread in after 1 ms of another's work, not 5. The terminal's keys are
    read, and its frames written, by Textual's threads: while the drawing thread judged 100k rows for a
    filter, a key waited for the lock once per step of its reading (select, read, parse, post), 5 ms each,
    and echoed 30 to 90 ms late (tests/unit/test_switch_interval.py, bench/keys.py)."""
    sys.setswitchinterval(SWITCH_SECONDS)


SWITCH_SECONDS = 0.001


_SUBCOMMANDS = frozenset({"simulate", "supervise", "search", "backends", "login"})
_NO_CONSOLE = frozenset({"-h", "--help", "-V", "--version", "--demo"})


def read_ahead(argv: list[str]) -> None:
    """The console's workspace file read by a second process while this one starts (backends/local_prefetch.py),
    forked here, before any import of the console (`ahead_path` says which file, if any)."""
    path = ahead_path(argv)
    if path is not None:
        from .backends.local_prefetch import start

        start(path)


def ahead_path(argv: list[str]) -> Path | None:
    """The file the console will open as its local workspace: the one `--db` names, or the default workspace
    when the config names no `[workspaces]` (as `_console` decides). None for a subcommand, the demo (a new
    workspace), a PostgreSQL workspace, or a config that names workspaces or cannot be read (the console then
    says why)."""
    named = config = None
    for index, token in enumerate(argv):
        if token in _SUBCOMMANDS or token in _NO_CONSOLE:
            return None
        following = argv[index + 1] if index + 1 < len(argv) else None
        if token == "--db" and following is not None:
            named = following
        elif token.startswith("--db="):
            named = token.removeprefix("--db=")
        elif token == "--config" and following is not None:
            config = following
        elif token.startswith("--config="):
            config = token.removeprefix("--config=")
    if named is not None:
        return None if "://" in named else Path(named).expanduser()
    import tomllib

    from .console.core.paths import config_path, data_path

    path = Path(config).expanduser() if config else config_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if raw.get("workspaces"):
        return None  # the config's workspaces are opened, and the default file only with --db
    return data_path() / "workspace.db"


def main(argv: list[str] | None = None) -> int:
    read_ahead(sys.argv[1:] if argv is None else argv)
    respect_dumb_terminal(os.environ)
    prefer_quick_frames(os.environ)
    hand_over_sooner()
    from .console.core.native_heap import share_one_heap

    share_one_heap()  # before any thread starts (console/core/native_heap.py)
    args = build_parser().parse_args(argv)
    from .console.core.logfile import setup_logging

    setup_logging()
    try:
        return _run(args)
    except UsageError as error:
        from .console.core.sanitize import sanitize

        prefix = f"standardiste {args.command}" if args.command else "standardiste"
        print(f"{prefix}: {sanitize(str(error), single_line=True)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130  # 128 + SIGINT, as a shell reports it
    except Exception as error:
        return _unexpected(args.command or "console", error)


def _unexpected(command: str, error: Exception) -> int:
    """One clear line for the person at the terminal, the traceback for whoever debugs it."""
    from .console.core.logfile import log_crash
    from .console.core.sanitize import sanitize

    where = log_crash(error, f"standardiste {command}")
    message = sanitize(f"{type(error).__name__}: {error}", single_line=True)[:300]
    print(f"standardiste {command}: unexpected error: {message} ({where})", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "backends":
        return _backends()
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "supervise":
        return _supervise(args)
    if args.command == "search":
        from .backends.local.search_cli import run_search

        db = _db(args.db)
        if isinstance(db, Path) and not db.exists():
            raise UsageError(f"no workspace at {db}")
        return run_search(db, " ".join(args.query), json_lines=args.json, limit=args.limit, agent=args.agent)
    if args.command == "login":
        from .console.core.secrets import login_command

        return login_command(args.workspace, stdin_secret=args.stdin, config_path=args.config)
    return _console(args)


def _backends() -> int:
    from .backends.base import available_backends

    for name, entry_point in sorted(available_backends().items()):
        dist = entry_point.dist.name if entry_point.dist else "?"
        print(f"{name:12} {entry_point.value}  ({dist})")
    return 0


class UsageError(Exception):
    """A mistake on the command line, caught before anything is created: one line on stderr, exit 2."""


def _db(value: str | None, what: str = "--db") -> Path | str:
    """The workspace: a file, or a `postgresql://` DSN (a string, as given). The default file's directory
    is created; a path the user named must be in a directory that exists: a typo (`--db ~/tema/team.db`)
    would otherwise open a new, empty workspace, and an agent would wait a day in an empty queue. A new file
    in an existing directory is a new workspace."""
    from .backends.local.database import as_target
    from .console.core.paths import default_db_path

    if value is None:
        return default_db_path()
    path = as_target(value)
    if isinstance(path, str):
        return path
    if path.is_dir():
        raise UsageError(f"{what} {path}: is a directory, not a workspace file")
    if not path.parent.is_dir():
        raise UsageError(
            f"{what} {path}: the directory {path.parent} does not exist (a typo?); "
            "create it first to start a new workspace there"
        )
    return path


def _simulate(args: argparse.Namespace) -> int:
    from .backends.local.database import shown
    from .backends.local.simulator.engine import run_simulator
    from .backends.local.simulator.scenario import ScenarioError
    from .console.core.sanitize import sanitize

    if args.rate < 0:
        print("standardiste simulate: --rate cannot be negative", file=sys.stderr)
        return 2
    if args.asterisk:
        return _simulate_calls(args)
    db = _db(args.db)
    if args.scenario is not None:
        # Checked before anything starts, in one line: a mistyped file name is not a scenario with errors.
        scenario = args.scenario.expanduser()
        if scenario.is_dir():
            raise UsageError(f"{scenario}: is a directory, not a scenario file")
        if not scenario.exists():
            raise UsageError(f"{scenario}: not found")
    print(f"simulating into {shown(db)} (ctrl+c stops)", file=sys.stderr)
    try:
        run_simulator(
            db,
            rate=args.rate,
            profile=args.profile,
            seed=args.seed,
            backfill=args.backfill,
            backfill_hours=args.backfill_hours,
            scenario=args.scenario,
            duration=args.duration,
        )
    except KeyboardInterrupt:
        pass
    except ScenarioError as error:  # a malformed scenario: say what and where (the file's text, made inert)
        print(f"standardiste simulate: {sanitize(str(error))}", file=sys.stderr)
        return 2
    return 0


def _simulate_calls(args: argparse.Namespace) -> int:
    """`simulate --asterisk NAME`: Local channels into the Stasis application of a real Asterisk."""
    import asyncio

    import httpx

    from .backends.asterisk import AsteriskBackend
    from .backends.asterisk.callers import run_for_workspace
    from .backends.base import BackendError
    from .backends.settings import secret_name
    from .console.core.config import ConfigError, load_config
    from .console.core.sanitize import sanitize
    from .console.core.secrets import secret_for
    from .console.core.workspaces import backend_kind

    try:
        config = load_config(args.config)
    except ConfigError as error:
        raise UsageError(f"bad config: {error}") from None
    table = config.workspaces.get(args.asterisk)
    if table is None or backend_kind(table) != "asterisk":
        raise UsageError(
            f'--asterisk {args.asterisk}: no [workspaces.{args.asterisk}] with backend = "asterisk"'
        )
    try:
        password = secret_for(secret_name(args.asterisk, AsteriskBackend.settings, "password"))
        placed = asyncio.run(
            run_for_workspace(
                table,
                password,
                calls=args.calls,
                rate=args.rate / 60.0,
                hangup_after=args.hangup_after,
                callbacks=args.callbacks,
                seed=args.seed,
            )
        )
    except KeyboardInterrupt:
        return 0
    except BackendError as error:
        print(f"standardiste simulate: {sanitize(str(error), single_line=True)}", file=sys.stderr)
        return 1
    except httpx.HTTPStatusError as error:  # ARI's own answer: 401 is a wrong user or password
        status = error.response.status_code
        why = "refused the user or password" if status == 401 else f"answered {status}"
        print(f"standardiste simulate: the Asterisk of {args.asterisk} {why}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(
            f"standardiste simulate: cannot reach the Asterisk of {args.asterisk}: {type(error).__name__}",
            file=sys.stderr,
        )
        return 1
    print(f"placed {len(placed)} calls into {args.asterisk}", file=sys.stderr)
    return 0


def _supervise(args: argparse.Namespace) -> int:
    from .backends.local import LocalBackend, Workspace
    from .backends.local.database import STORAGE_ERRORS, SchemaTooNew
    from .console.core.wallboard_json import prepare_settings, print_json
    from .console.ui.wallboard.app import run_wallboard

    db = _db(args.db)
    if isinstance(db, Path) and not db.exists():
        print(f"standardiste supervise: no workspace at {db}", file=sys.stderr)
        return 2
    if args.json:
        try:
            return print_json(lambda: Workspace(db), interval=args.interval, count=args.count)
        except (*STORAGE_ERRORS, SchemaTooNew) as error:  # the server went, or never answered: one line
            print(f"standardiste supervise: {error}", file=sys.stderr)
            return 1
    prepared = prepare_settings(None)
    if prepared is None:
        return 2
    config, settings = prepared
    # The supervisor watches (and may act) without joining the routing pool.
    backend = LocalBackend(db, register=False, agent_id=config.agent_id)
    return run_wallboard(backend, config, settings, read_only=not args.act)


def _console(args: argparse.Namespace) -> int:
    from .console.core.collector import begin_startup, end_startup

    begin_startup()  # until the first frame (console/core/collector.py)
    try:
        return _open_console(args)
    finally:
        end_startup()


def _open_console(args: argparse.Namespace) -> int:
    from .backends.base import BackendContext
    from .backends.local import LocalBackend
    from .console.core.config import ConfigError, load_config
    from .console.core.logfile import app_exit_status
    from .console.core.paths import data_dir
    from .console.ui.app import StandardisteApp

    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"standardiste: bad config: {error}", file=sys.stderr)
        return 2
    if args.agent:
        config.agent_id = config.agent_name = args.agent
    from .console.core.agent_profile import profile_of
    from .console.core.model import Presence

    try:
        profile = profile_of(config.raw, config.routing)
    except ValueError as error:
        print(f"standardiste: bad [profile] in the config: {error}", file=sys.stderr)
        return 2
    me = profile.to_agent(config.agent_id, config.agent_name, Presence.AVAILABLE) if profile else None
    stop = threading.Event()
    simulator_thread: threading.Thread | None = None
    temporary: tempfile.TemporaryDirectory[str] | None = None
    backends = []
    if args.demo:
        temporary = tempfile.TemporaryDirectory(prefix="standardiste-demo-")
        db = Path(temporary.name) / "demo.db"
        config.supervisor = True
        simulator_thread = _start_demo_simulator(db, args.rate, args.seed, stop)
        backends.append(LocalBackend(db, agent_id=config.agent_id, agent=me))
    elif args.db or not config.workspaces:
        backends.append(LocalBackend(_db(args.db), agent_id=config.agent_id, agent=me))
    if not args.demo and config.workspaces:
        from .console.core.secrets import secret_for
        from .console.core.workspaces import backend_kind, open_workspace

        context = BackendContext(agent_id=config.agent_id, data_dir=data_dir(), secret=secret_for, agent=me)
        for name, table in config.workspaces.items():
            if backend_kind(table) == "local" and "db" not in table and args.db:
                table = {**table, "db": str(_db(args.db))}  # a local table naming no file takes --db's
            try:
                backend, warnings = open_workspace(name, table, context, config.path)
            except ConfigError as error:
                print(f"standardiste: bad config: {error}", file=sys.stderr)
                return 2
            config.warnings += warnings
            backends.append(backend)
    data = data_dir()
    app = StandardisteApp(
        config,
        backends,
        drafts_path=data / f"drafts-{config.agent_id}.db",
        outbox_path=data / f"outbox-{config.agent_id}.db",
    )
    try:
        app.run()
    finally:
        stop.set()
        if simulator_thread is not None:
            simulator_thread.join(timeout=5)
        if temporary is not None:
            temporary.cleanup()
    return app_exit_status(app, "the console")


def _start_demo_simulator(db: Path, rate: float, seed: int | None, stop: threading.Event) -> threading.Thread:
    from .backends.local.simulator.engine import Simulator

    simulator = Simulator(db, rate=rate, seed=seed)
    # A few hours of history first, so customer cards, the wallboard and the inbox are not empty.
    simulator.backfill(400, hours=6.0)

    def run() -> None:
        try:
            simulator.run(stop)
        finally:
            simulator.close()

    thread = threading.Thread(target=run, name="demo-simulator", daemon=True)
    thread.start()
    # The colleagues who take their share of the traffic (a contact centre, not one agent alone).
    from .backends.local.simulator.colleagues import Colleagues

    colleagues = Colleagues(db, seed=seed)
    threading.Thread(target=colleagues.run, args=(stop,), name="demo-colleagues", daemon=True).start()
    return thread


if __name__ == "__main__":
    sys.exit(main())
