"""Credentials of workspaces: the system keyring, or an environment variable where there is no keyring.

A secret is stored with `standardiste login <workspace>` in the system keyring (service "standardiste",
user name = the workspace name): GNOME Keyring / KWallet via Secret Service, macOS Keychain, Windows
Credential Locker. Servers, containers and CI usually have none; there the secret comes from the environment
variable `STANDARDISTE_SECRET_<WORKSPACE>` (upper-cased, every other character than A-Z and 0-9 becomes `_`),
set by whatever starts the console (a systemd unit's `LoadCredential`/`Environment`, a CI secret). The
variable, when set, wins over the keyring. Nothing here ever writes a secret to a plaintext file, and no
message names the secret.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from pathlib import Path
from typing import TextIO

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from ...backends.base import AuthError
from ...backends.setting import Setting
from ...backends.settings import secret_name, workspace_of_secret

SERVICE = "standardiste"
ENV_PREFIX = "STANDARDISTE_SECRET_"


class NoKeyring(RuntimeError):
    """There is no usable system keyring: the message says what to do instead."""


def env_name(workspace: str) -> str:
    """`mail` -> `STANDARDISTE_SECRET_MAIL`, `shop-eu.mail` -> `STANDARDISTE_SECRET_SHOP_EU_MAIL`."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", workspace.upper())


def keyring_problem() -> str:
    """Why the keyring cannot be used here, or "" when it can."""
    try:
        backend = keyring.get_keyring()
    except Exception as error:  # a broken keyring configuration
        return f"the keyring configuration is broken ({type(error).__name__})"
    priority = getattr(backend, "priority", 0)
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if name.startswith("keyring.backends.fail") or (isinstance(priority, int | float) and priority <= 0):
        return "no system keyring service is available on this machine"
    return ""


def _no_keyring_message(workspace: str, reason: str) -> str:
    return (
        f"{reason}, so the secret of {workspace!r} cannot be stored there. "
        f"Set the environment variable {env_name(workspace)} in the environment that starts standardiste "
        "instead (for example a systemd credential or a CI secret). Nothing was written to disk."
    )


def store_secret(workspace: str, secret: str) -> None:
    """Keep `secret` for `workspace` in the system keyring; raise `NoKeyring` (saying what to do) if none."""
    if not secret:
        raise ValueError("an empty secret is not stored")
    problem = keyring_problem()
    if problem:
        raise NoKeyring(_no_keyring_message(workspace, problem))
    try:
        keyring.set_password(SERVICE, workspace, secret)
    except NoKeyringError:
        raise NoKeyring(_no_keyring_message(workspace, "no system keyring service is available")) from None
    except KeyringError as error:
        raise NoKeyring(
            _no_keyring_message(workspace, f"the system keyring refused the secret ({type(error).__name__})")
        ) from None


def load_secret(workspace: str) -> str:
    """The secret of `workspace` from the system keyring; `AuthError` with a plain message when there is none."""
    problem = keyring_problem()
    if problem:
        raise AuthError(
            f"{problem}; set {env_name(workspace)} to give the password of workspace {workspace!r}"
        )
    try:
        secret = keyring.get_password(SERVICE, workspace)
    except KeyringError as error:
        raise AuthError(
            f"the system keyring could not be read ({type(error).__name__}); "
            f"set {env_name(workspace)} to give the password of workspace {workspace!r}"
        ) from None
    if not secret:
        raise AuthError(
            f"no password is stored for workspace {workspace!r}: run "
            f"`standardiste login {workspace_of_secret(workspace)}` (or set {env_name(workspace)})"
        )
    return secret


def secret_for(workspace: str) -> str:
    """What the console passes to adapters as `BackendContext.secret`: environment first, then the keyring."""
    from_env = os.environ.get(env_name(workspace), "")
    if from_env:
        return from_env
    return load_secret(workspace)


def forget_secret(workspace: str) -> bool:
    """Remove the stored secret; False when there was none (or no keyring)."""
    if keyring_problem():
        return False
    try:
        keyring.delete_password(SERVICE, workspace)
    except (PasswordDeleteError, KeyringError):
        return False
    return True


def _label(setting: Setting) -> str:
    return setting.name.replace("_", " ").capitalize()


def _secrets_to_ask(workspace: str, config_path: Path | None) -> list[Setting]:
    """The secrets the adapter of `[workspaces.<workspace>]` declares; ConfigError (a message) when the
    table is not there or names no installed adapter.

    With no workspace in the file at all (not written yet), one password is asked for, kept under the
    workspace's name: what every adapter with a secret reads first (settings.secret_name).
    """
    from .config import ConfigError, load_config
    from .workspaces import workspace_class

    config = load_config(config_path)
    table = config.workspaces.get(workspace)
    if table is None:
        if config.workspaces:
            known = ", ".join(sorted(config.workspaces))
            raise ConfigError(f"{config.path} has no [workspaces.{workspace}] (it has: {known})")
        return [Setting("password", secret=True)]
    found = workspace_class(workspace, table, config.path).secrets_for(table)
    if not found:
        raise ConfigError(f"[workspaces.{workspace}] has no secret to store (its adapter needs none for it)")
    return found


def login_command(
    workspace: str,
    *,
    stdin_secret: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    config_path: Path | None = None,
) -> int:
    """`standardiste login <workspace>`: ask for each secret the workspace's adapter declares (or read them
    from stdin, one line each, in the order declared) and store them.

    Exit status: 0 stored, 1 no keyring (the message gives the alternative), 2 nothing to store.
    """
    from .config import ConfigError

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        wanted = _secrets_to_ask(workspace, config_path)
    except ConfigError as error:
        print(f"standardiste login: {error}; nothing stored", file=stderr)
        return 2
    given: list[tuple[Setting, str]] = []
    for setting in wanted:
        try:
            if stdin_secret:
                secret = stdin.readline().rstrip("\r\n")
            else:
                secret = getpass.getpass(f"{_label(setting)} for workspace {workspace}: ", stream=stderr)
        except (EOFError, KeyboardInterrupt):
            print("standardiste login: cancelled, nothing stored", file=stderr)
            return 2
        if not secret:
            print(f"standardiste login: empty {_label(setting).lower()}, nothing stored", file=stderr)
            return 2
        given.append((setting, secret))
    # All asked before any is stored: a login cancelled half-way leaves the keyring as it was.
    for setting, secret in given:
        try:
            store_secret(secret_name(workspace, wanted, setting.name), secret)
        except NoKeyring as error:
            print(f"standardiste login: {error}", file=stderr)
            return 1
        print(
            f"The {_label(setting).lower()} of workspace {workspace!r} is stored in the system keyring.",
            file=stdout,
        )
    return 0
