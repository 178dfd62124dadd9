"""What the config file says that nothing uses (unknown keys, a theme or binding ids that do not exist): said
at start as a toast and written to the log, by the console and by `standardiste supervise` alike, which read
the same file. The app passes the themes it has registered; the binding ids are the console's (one file)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from textual.app import App

from ..core.config import Config
from ..core.config_keys import unknown_names


def config_problems(config: Config, themes: Iterable[str]) -> list[str]:
    # Listing the binding ids imports every screen (~25 ms at start): only when `[keys]` names some.
    ids: Iterable[str] = ()
    if config.keys:
        from .binding_ids import binding_ids

        ids = binding_ids()
    return [*config.warnings, *unknown_names(config.theme, config.keys, themes, ids)]


def warn_about_config(app: App[object], config: Config, logger: logging.Logger) -> None:
    """Each problem as a warning toast naming the file (plain text: the app's notify, plain_ui.py) and a log line."""
    for problem in config_problems(config, app.available_themes):
        logger.warning("config %s: %s", config.path, problem)
        app.notify(f"{config.path}: {problem}", title="Config", severity="warning", timeout=15)
