"""Canned responses and macros: a library of TOML files per language, rendered with what the console knows.

A macro is a reply text with `{{variables}}` and actions (tags to add or remove, a status, a priority, close).
The shipped library lives in `console/macros/*.toml`; the user's own files (the `macros/` folder of their
config dir) are loaded after it and replace a shipped macro with the same language and id.

Three promises:

- A file is checked completely when it is loaded: bad TOML, an unknown key, an unknown variable, a status the
  listed channels cannot take are a `MacroError` naming the file and the line, never a crash while an agent
  is typing. A bad user file is skipped as a whole (half a file loaded would be harder to notice) and its
  error kept in `MacroLibrary.errors` for the app to show.
- Values are plain text. What a customer chose as their name may hold Rich markup or terminal escapes: every
  value is sanitised (`sanitize(single_line=True)`), substituted in one pass (a value that looks like
  `{{agent.name}}` stays literally that), and the result is meant for the composer or for `Text`, never
  for markup.
- The backend commands come out in the order the backends need: the reply first (the customer reads the
  answer before a "solved" survey), then tags (some systems refuse tag changes on a closed ticket), then
  priority and status, then the close itself and its wrap-up.

The format is documented in docs/macros.md.

The macros themselves (context, rendering, commands) are in macro_model.py, the file parser and its checks
in macro_loader.py; this module assembles the library and re-exports their public names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .macro_loader import MacroError, load_file, parse_macros
from .macro_model import (
    BUILTIN_VARIABLES,
    FALLBACK_LANGUAGE,
    FilledMacro,
    Macro,
    MacroContext,
    MissingValues,
    Mode,
    clean_value,
    extract_order_id,
    language_preference,
    normalise_language,
)
from .model import Channel

# ------------------------------------------------------------------------------------------ the library


def _fold(text: str) -> str:
    """Case- and accent-blind, so that "ou est" finds "Où est mon colis"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class MacroLibrary:
    """Every macro usable now, in file order, user ones replacing shipped ones with the same language and id."""

    macros: tuple[Macro, ...] = ()
    errors: tuple[MacroError, ...] = ()

    def get(self, macro_id: str, language: str = FALLBACK_LANGUAGE) -> Macro | None:
        """The macro in the best language available for `language` (falls back to English)."""
        for tag in language_preference(language):
            for macro in self.macros:
                if macro.id == macro_id and macro.language == tag:
                    return macro
        return None

    def languages(self) -> list[str]:
        return sorted({m.language for m in self.macros})

    def candidates(
        self, language: str, channel: Channel | None = None, *, all_languages: bool = False
    ) -> list[Macro]:
        """The macros to offer: the conversation's language first, then English for ids not translated.

        With `all_languages`, every other language follows, for the agent who writes to a customer in a
        language the conversation was not tagged with.
        """
        preference = language_preference(language)
        usable = [m for m in self.macros if m.applies_to(channel)]
        out: list[Macro] = []
        taken: set[str] = set()
        for tag in preference:
            for macro in usable:
                if macro.language == tag and macro.id not in taken:
                    out.append(macro)
            taken |= {m.id for m in out}
        if all_languages:
            shown = {id(m) for m in out}
            rest = [m for m in usable if id(m) not in shown]
            rest.sort(key=lambda m: m.language not in preference)  # stable: English next, then the others
            out += rest
        return out

    def search(
        self, query: str, language: str, channel: Channel | None = None, *, all_languages: bool = False
    ) -> list[Macro]:
        """`candidates` matching every word of `query` in shortcut, name, id or text, best matches first.

        Shortcut hits come first (an agent who types "wism" wants that macro), then name or id, then text.
        """
        pool = self.candidates(language, channel, all_languages=all_languages)
        words = _fold(query).split()
        if not words:
            return pool
        whole = " ".join(words)
        ranked: list[tuple[int, int, Macro]] = []
        for position, macro in enumerate(pool):
            shortcut = _fold(macro.shortcut)
            title = _fold(f"{macro.name} {macro.id}")
            body = _fold(macro.text)
            if not all(w in shortcut or w in title or w in body for w in words):
                continue
            if shortcut and shortcut == whole:
                rank = 0
            elif shortcut and shortcut.startswith(whole):
                rank = 1
            elif all(w in title for w in words):
                rank = 2
            else:
                rank = 3
            ranked.append((rank, position, macro))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [macro for _, _, macro in ranked]


def _merge(layers: Iterable[list[Macro]]) -> tuple[Macro, ...]:
    by_key: dict[tuple[str, str], Macro] = {}
    for layer in layers:
        for macro in layer:
            by_key[(macro.language, macro.id)] = (
                macro  # dicts keep the first position: overrides stay in place
            )
    return tuple(by_key.values())


def shipped_macros() -> list[Macro]:
    """The library that ships with the package. An error here is a bug in the package: it is raised."""
    folder = resources.files(__package__).joinpath("macros")
    macros: list[Macro] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            macros += parse_macros(
                entry.read_text(encoding="utf-8"), f"standardiste/console/macros/{entry.name}"
            )
    return macros


def _load_layer(folder: Path, errors: list[MacroError]) -> list[Macro]:
    """One folder's files in name order; a bad file is skipped and its error kept. Ids must not repeat."""
    macros: list[Macro] = []
    where: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            loaded = load_file(path)
            for macro in loaded:
                key = (macro.language, macro.id)
                if key in where:
                    raise MacroError(
                        str(path),
                        f"macro {macro.id!r} ({macro.language}) is already defined in {where[key]}",
                        macro.line,
                    )
        except MacroError as error:
            errors.append(error)
            continue
        for macro in loaded:
            where[(macro.language, macro.id)] = str(path)
        macros += loaded
    return macros


def load_library(user_dir: Path | None = None) -> MacroLibrary:
    """The shipped library, then `user_dir/*.toml` over it (a missing folder is no error)."""
    errors: list[MacroError] = []
    layers = [shipped_macros()]
    if user_dir is not None and user_dir.is_dir():
        layers.append(_load_layer(user_dir, errors))
    return MacroLibrary(_merge(layers), tuple(errors))


__all__ = [
    "BUILTIN_VARIABLES",
    "FALLBACK_LANGUAGE",
    "FilledMacro",
    "Macro",
    "MacroContext",
    "MacroError",
    "MacroLibrary",
    "MissingValues",
    "Mode",
    "clean_value",
    "extract_order_id",
    "language_preference",
    "load_file",
    "load_library",
    "normalise_language",
    "parse_macros",
    "shipped_macros",
]
