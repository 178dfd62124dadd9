"""Reading macro files: TOML checked completely at load (unknown keys, unknown variables, statuses the
channels cannot take), every problem a `MacroError` naming the file and the line. The overview is in
macros.py, the format in docs/macros.md.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .macro_model import _PLACEHOLDER, BUILTIN_VARIABLES, Macro, Mode, clean_value, normalise_language
from .model import Channel, Priority, State, state_allowed
from .sanitize import sanitize

_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_MACRO_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_HEADER = re.compile(r"^\s*\[\[\s*macro\s*\]\]\s*(?:#.*)?$")


class MacroError(Exception):
    """A macro file that cannot be used, with where: `path:line: message` (line when it can be found)."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


# ------------------------------------------------------------------------------------------ loading

_ALLOWED_KEYS = frozenset(
    {
        "id",
        "language",
        "name",
        "text",
        "shortcut",
        "mode",
        "add_tags",
        "remove_tags",
        "status",
        "priority",
        "close",
        "disposition",
        "channels",
    }
)
_FILE_KEYS = frozenset({"language", "variables", "macro"})
_LineOf = Callable[[str], int | None]  # a key's line in the macro being checked


class _Lines:
    """Where things are in the raw text, since `tomllib` gives values without positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = self._headers()

    def _headers(self) -> list[int]:
        found: list[int] = []
        quote: str | None = None  # inside a multi-line string, a line "[[macro]]" is text, not a header
        for number, line in enumerate(self.lines, start=1):
            if quote is None and _HEADER.match(line):
                found.append(number)
            for delimiter in ('"""', "'''"):
                if quote in (None, delimiter) and line.count(delimiter) % 2 == 1:
                    quote = None if quote == delimiter else delimiter
        return found

    def span(self, index: int) -> tuple[int, int] | None:
        """First and last line of the index-th `[[macro]]` table, when written as a table."""
        if index >= len(self.headers):
            return None
        start = self.headers[index]
        end = self.headers[index + 1] - 1 if index + 1 < len(self.headers) else len(self.lines)
        return start, end

    def find(self, index: int, pattern: re.Pattern[str]) -> int | None:
        span = self.span(index)
        if span is None:
            return None
        for number in range(span[0], span[1] + 1):
            if pattern.search(self.lines[number - 1]):
                return number
        return span[0]

    def key(self, index: int, key: str) -> int | None:
        return self.find(index, re.compile(rf"^\s*{re.escape(key)}\s*="))

    def placeholder(self, index: int, inner: str) -> int | None:
        return self.find(index, re.compile(r"\{\{" + re.escape(inner) + r"\}\}"))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    # `carrier.name = "..."` in TOML is a nested table; `"carrier.name" = "..."` is one key. Both mean one name.
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


class _FileParser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.lines = _Lines(text)

    def fail(self, message: str, line: int | None = None) -> MacroError:
        return MacroError(self.source, message, line)

    def parse(self) -> list[Macro]:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            # tomllib says "... (at line 7, column 12)": keep its words, give the line to the error too.
            match = re.search(r"line (\d+)", str(error))
            raise self.fail(f"not valid TOML: {error}", int(match.group(1)) if match else None) from None
        unknown = sorted(set(data) - _FILE_KEYS)
        if unknown:
            line = self._top_level_line(unknown[0])
            raise self.fail(
                f"unknown top-level key {unknown[0]!r} (allowed: {', '.join(sorted(_FILE_KEYS))})", line
            )
        file_language = data.get("language")
        if file_language is not None:
            file_language = self._language(file_language, self._top_level_line("language"))
        labels = dict(BUILTIN_VARIABLES)
        labels.update(self._declared(data.get("variables", {})))
        tables = data.get("macro", [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise self.fail("`macro` must be an array of tables: write each one under [[macro]]")
        macros: list[Macro] = []
        seen: dict[tuple[str, str], int] = {}
        for index, table in enumerate(tables):
            macro = self._macro(index, table, file_language, labels)
            key = (macro.language, macro.id)
            if key in seen:
                raise self.fail(
                    f"macro {macro.id!r} ({macro.language}) is defined twice (first at line {seen[key]})",
                    macro.line,
                )
            seen[key] = macro.line or 0
            macros.append(macro)
        return macros

    def _top_level_line(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*\[?\s*{re.escape(key)}\s*[=\]]")
        for number, line in enumerate(self.lines.lines, start=1):
            if pattern.search(line):
                return number
        return None

    def _language(self, value: object, line: int | None) -> str:
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(normalise_language(value)):
            raise self.fail(f'language must be a language tag like "fr" or "pt-br", not {value!r}', line)
        return normalise_language(value)

    def _declared(self, table: object) -> dict[str, str]:
        line = self._top_level_line("variables")
        if not isinstance(table, Mapping):
            raise self.fail('[variables] must be a table of name = "label"', line)
        declared: dict[str, str] = {}
        for name, label in _flatten(table).items():
            if not _VARIABLE_NAME.fullmatch(name):
                raise self.fail(f"variable name {name!r}: use lower-case words joined by dots", line)
            if name in BUILTIN_VARIABLES:
                raise self.fail(f"variable {name!r} is built in: it need not be declared", line)
            if not isinstance(label, str) or not label.strip():
                raise self.fail(f"variable {name!r} needs a label (the question the picker asks)", line)
            declared[name] = clean_value(label)
        return declared

    def _macro(
        self, index: int, table: dict[str, Any], file_language: str | None, labels: Mapping[str, str]
    ) -> Macro:
        span = self.lines.span(index)
        line = span[0] if span else None

        def at(key: str) -> int | None:
            return self.lines.key(index, key)

        unknown = sorted(set(table) - _ALLOWED_KEYS)
        if unknown:
            raise self.fail(
                f"macro #{index + 1}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_ALLOWED_KEYS))})",
                at(unknown[0]) or line,
            )
        macro_id = table.get("id")
        if not isinstance(macro_id, str) or not _MACRO_ID.fullmatch(macro_id):
            raise self.fail(
                f"macro #{index + 1}: id must be lower-case letters, digits, '-', '_' or '.', not {macro_id!r}",
                at("id") or line,
            )
        where = f"macro {macro_id!r}"
        if "language" in table:
            language = self._language(table["language"], at("language"))
        elif file_language is not None:
            language = file_language
        else:
            raise self.fail(
                f"{where}: no language (set `language` at the top of the file or in the macro)", line
            )
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(f"{where}: `name` is required (what the picker lists)", at("name") or line)
        text = table.get("text", "")
        if not isinstance(text, str):
            raise self.fail(f"{where}: `text` must be a string", at("text"))
        text = sanitize(text).strip("\n")
        shortcut = table.get("shortcut", "")
        if not isinstance(shortcut, str) or any(ch.isspace() for ch in shortcut):
            raise self.fail(f"{where}: `shortcut` must be one word", at("shortcut"))
        mode_value = table.get("mode", Mode.INSERT.value)
        try:
            mode = Mode(mode_value)
        except ValueError:
            raise self.fail(
                f'{where}: mode must be "insert" or "send", not {mode_value!r}', at("mode")
            ) from None
        add_tags = self._tags(table, "add_tags", where, at)
        remove_tags = self._tags(table, "remove_tags", where, at)
        both = sorted(set(add_tags) & set(remove_tags))
        if both:
            raise self.fail(f"{where}: tag {both[0]!r} is both added and removed", at("remove_tags"))
        status = self._enum(table, "status", State, where, at)
        priority_name = table.get("priority")
        priority: Priority | None = None
        if priority_name is not None:
            try:
                priority = Priority[str(priority_name).upper()]
            except KeyError:
                raise self.fail(
                    f"{where}: priority must be low, normal, high or urgent, not {priority_name!r}",
                    at("priority"),
                ) from None
        close = table.get("close", False)
        if not isinstance(close, bool):
            raise self.fail(f"{where}: close must be true or false", at("close"))
        if close and status is not None:
            raise self.fail(f"{where}: `close` already sets the final status; drop `status`", at("status"))
        disposition = table.get("disposition", "")
        if not isinstance(disposition, str) or (disposition and not _MACRO_ID.fullmatch(disposition)):
            raise self.fail(f'{where}: disposition must be a code like "refund"', at("disposition"))
        if disposition and not close:
            raise self.fail(
                f"{where}: a disposition is given at close: add `close = true`", at("disposition")
            )
        channels = self._channels(table, where, at)
        if status is not None:
            for channel in sorted(channels, key=lambda c: c.value):
                if not state_allowed(channel, status):
                    raise self.fail(f"{where}: a {channel.value} cannot be {status.value}", at("status"))
        if mode is Mode.SEND and not text:
            raise self.fail(f'{where}: mode "send" with no text: nothing to send', at("mode"))
        if not text and not (add_tags or remove_tags or status or priority is not None or close):
            raise self.fail(f"{where}: no text and no action: it would do nothing", line)
        variables = self._variables(index, text, where, labels)
        return Macro(
            id=macro_id,
            language=language,
            name=clean_value(name),
            text=text,
            shortcut=shortcut,
            mode=mode,
            add_tags=add_tags,
            remove_tags=remove_tags,
            status=status,
            priority=priority,
            close=close,
            disposition=disposition,
            channels=channels,
            variables=variables,
            labels=tuple((v, labels[v]) for v in variables),
            source=self.source,
            line=line,
        )

    def _tags(self, table: Mapping[str, Any], key: str, where: str, at: _LineOf) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(t, str) and t.strip() and not any(ch.isspace() for ch in t) for t in value
        ):
            raise self.fail(f"{where}: {key} must be a list of tags without spaces", at(key))
        return tuple(dict.fromkeys(value))

    def _enum(
        self, table: Mapping[str, Any], key: str, kind: type[State], where: str, at: _LineOf
    ) -> State | None:
        value = table.get(key)
        if value is None:
            return None
        try:
            return kind(str(value).lower())
        except ValueError:
            allowed = ", ".join(s.value for s in kind)
            raise self.fail(f"{where}: unknown {key} {value!r} (one of: {allowed})", at(key)) from None

    def _channels(self, table: Mapping[str, Any], where: str, at: _LineOf) -> frozenset[Channel]:
        value = table.get("channels", [])
        if not isinstance(value, list):
            raise self.fail(f'{where}: channels must be a list like ["chat", "email"]', at("channels"))
        channels: set[Channel] = set()
        for item in value:
            try:
                channels.add(Channel(str(item).lower()))
            except ValueError:
                allowed = ", ".join(c.value for c in Channel)
                raise self.fail(
                    f"{where}: unknown channel {item!r} (one of: {allowed})", at("channels")
                ) from None
        return frozenset(channels)

    def _variables(self, index: int, text: str, where: str, labels: Mapping[str, str]) -> tuple[str, ...]:
        found: list[str] = []
        for match in _PLACEHOLDER.finditer(text):
            inner = match.group(1)
            name = inner.strip()
            line = self.lines.placeholder(index, inner)
            if not _VARIABLE_NAME.fullmatch(name):
                raise self.fail(f"{where}: {{{{{inner}}}}} is not a variable name", line)
            if name not in labels:
                close = difflib.get_close_matches(name, list(labels), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]!r}?)" if close else " (declare it under [variables])"
                raise self.fail(f"{where}: unknown variable {{{{{name}}}}}{hint}", line)
            found.append(name)
        rest = _PLACEHOLDER.sub("", text)
        if "{{" in rest:
            line = self.lines.find(index, re.compile(r"\{\{(?!.*\}\})"))
            raise self.fail(f"{where}: a '{{{{' is never closed by '}}}}'", line)
        return tuple(dict.fromkeys(found))


def parse_macros(text: str, source: str) -> list[Macro]:
    """The macros of one file's text; `MacroError` naming `source` if anything in it is wrong."""
    return _FileParser(text, source).parse()


def load_file(path: Path) -> list[Macro]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MacroError(str(path), f"cannot read: {error}") from None
    return parse_macros(text, str(path))
