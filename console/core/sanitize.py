"""The one gate every customer-provided string passes before it reaches the screen.

A customer controls the subject, body, name and attachment names of what they send. Written to a terminal
as-is, that text could retitle the window (OSC 0/2), write the clipboard (OSC 52), hide a link (OSC 8),
move the cursor or clear the screen (CSI), or reverse the reading order of a line (bidi overrides). Shown
through Rich markup it could restyle or fake the console's own text. So:

- whole escape sequences (CSI, OSC, DCS, SOS, PM, APC, and 8-bit C1 introducers) are removed with their
  payloads, not just their ESC byte, so that no half of a sequence is left to print;
- every remaining C0 control but newline and tab, DEL, and every C1 control is removed;
- bidi embedding/override/isolate characters are replaced by a visible marker (U+FFFD);
- the result is meant for `rich.text.Text(...)` (never markup): `widgets/safe_text.py` builds one.
"""

from __future__ import annotations

import re

# ESC-introduced sequences, and the same introduced by 8-bit C1 bytes. String sequences (OSC, DCS, SOS,
# PM, APC) end at BEL or ST (ESC \\ or 0x9c); an unterminated one swallows the rest of the string, as a
# terminal would. One pattern, scanned once from the left: with one pass per kind, the ESC pass would take
# the ESC \\ that ends an 8-bit OSC, and the C1 pass would then swallow the text after it.
_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?                 # CSI ... final byte
  | \x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)    # OSC, DCS, SOS, PM, APC ... BEL or ST
  | \x1b[ -/]*[0-~]?                         # nF / Fp / Fe / Fs escapes (ESC c, ESC 7, ESC (B ...)
  | \x9b[0-?]*[ -/]*[@-~]?                   # 8-bit CSI
  | [\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x9c|\x1b\\|$)  # 8-bit DCS, SOS, OSC, PM, APC
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 but \t and \n, DEL, and C1. \r is dropped too: it rewinds the line and hides what came before.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI), plus LRM/RLM/ALM are left:
# they only mark direction and cannot reorder text they do not belong to.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
BIDI_MARKER = "\ufffd"


def sanitize(text: str, *, single_line: bool = False) -> str:
    """Return `text` safe to print on a terminal. `single_line` also folds newlines and tabs to spaces."""
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return text  # the common case costs one scan
    cleaned = _SEQUENCE.sub("", text)
    cleaned = cleaned.replace("\r\n", "\n")
    cleaned = _CONTROL.sub("", cleaned)
    cleaned = _BIDI.sub(BIDI_MARKER, cleaned)
    if single_line:
        cleaned = cleaned.replace("\n", " ").replace("\t", " ")
    return cleaned



# A directory entry holds at most 255 bytes on the usual file systems (ext4, xfs, btrfs, tmpfs); keep a
# margin for a "(2)" that a caller may add to avoid overwriting.
_NAME_MAX_BYTES = 240
_SUFFIX_MAX_CHARS = 16


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A customer-provided attachment name reduced to one safe path component."""
    cleaned = sanitize(name, single_line=True)
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[\x00-\x1f<>:\"|?*\ufffd]", "_", cleaned).strip().strip(".")
    if len(cleaned.encode()) > _NAME_MAX_BYTES:
        # Cut the stem, not the extension: "report.pdf" must still open as a PDF. Bytes, not characters:
        # 180 emoji are 720 bytes, which the file system refuses.
        stem, dot, suffix = cleaned.rpartition(".")
        if not dot or not stem or len(suffix) > _SUFFIX_MAX_CHARS:
            stem, dot, suffix = cleaned, "", ""
        budget = _NAME_MAX_BYTES - len((dot + suffix).encode())
        stem = stem.encode()[:budget].decode(errors="ignore").rstrip(" .")
        cleaned = stem + dot + suffix if stem else ""
    return cleaned or fallback
