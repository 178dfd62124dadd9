"""Attachment names are hostile: saving writes only inside the chosen folder, and never over a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from standardiste.console.core.attachments import save_attachment, target_path

HOSTILE = [
    "../../etc/passwd",
    "/etc/shadow",
    "..\\..\\windows\\system32\\evil.dll",
    "invoice\x1b]0;pwned\x07.pdf",
    "photo\r\n.jpg",
    "\u202egpj.exe",
    "..",
    "",
    "a" * 500 + ".pdf",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_the_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "downloads"
    outside_before = set((tmp_path).iterdir())
    path = save_attachment(folder, name, b"content")
    assert path.parent == folder.resolve()
    assert path.read_bytes() == b"content"
    assert not any(ord(ch) < 32 for ch in path.name)
    assert set(tmp_path.iterdir()) <= outside_before | {folder}
    assert not Path("/etc/passwd").read_bytes().startswith(b"content")


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    first = save_attachment(tmp_path, "invoice.pdf", b"one")
    second = save_attachment(tmp_path, "invoice.pdf", b"two")
    assert first.name == "invoice.pdf" and second.name == "invoice (2).pdf"
    assert first.read_bytes() == b"one"


def test_a_symlink_planted_under_the_name_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep")
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "report.pdf").symlink_to(secret)
    path = save_attachment(folder, "report.pdf", b"evil")
    assert path.name == "report (2).pdf"
    assert secret.read_text() == "keep"


def test_target_path_names_fresh_files(tmp_path: Path) -> None:
    assert target_path(tmp_path, "x.tar.gz").name == "x.tar.gz"
