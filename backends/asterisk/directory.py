"""The customers a phone workspace knows: a CSV file of `number,name,language,email` (a header line first),
exported from the CRM. A caller whose number is in it is that customer (their name, language and address,
not the caller id's), whatever way the number is written (`+33 1 23 45 67 89` and `+33123456789` match).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..base import Invalid


def normal(number: str) -> str:
    """Digits and a leading +: how numbers are compared."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"+{digits}" if number.strip().startswith("+") else digits


@dataclass(frozen=True, slots=True)
class Known:
    name: str
    language: str = ""
    email: str = ""


def read_directory(path: Path, where: str) -> dict[str, Known]:
    """Numbers to customers; `Invalid` naming the file and the line for one that cannot be read."""
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise Invalid(f"{where} directory: cannot read {path}: {error}") from None
    known: dict[str, Known] = {}
    for line, row in enumerate(rows, start=2):
        number, name = normal(row.get("number") or ""), (row.get("name") or "").strip()
        if not number.strip("+") or not name:
            raise Invalid(f"{where} directory: {path} line {line}: a number and a name are needed")
        known[number] = Known(
            name, (row.get("language") or "").strip().lower(), (row.get("email") or "").strip()
        )
    return known
