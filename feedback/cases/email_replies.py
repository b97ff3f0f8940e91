"""A customer's email reply without the history their mail program quoted under it.

A small stripper until a maintained library (`mail-parser-reply`) is installed: it cuts at the
first attribution line ("On … wrote:", wrapped over two lines as Gmail does, and its French,
German, Spanish and Dutch forms), at a "-----Original Message-----" or Outlook "From:" block,
at a line of underscores, at the first quoted ("> ") line, and drops a "-- " signature and a
"Sent from my phone" line."""

import re

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.+\bwrote|le\b.+\ba écrit|am\b.+\bschrieb|el\b.+\bescribió|op\b.+\bschreef)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|le|am|el|op)\s", re.IGNORECASE)
_SEPARATORS = (
    re.compile(r"^\s*-{2,}\s*(original message|forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*(from|de|von|van)\s*:\s.+", re.IGNORECASE),
    re.compile(r"^\s*>"),
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*sent from my \w+", re.IGNORECASE),
)


def _cut_at(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line) or any(p.match(line) for p in _SEPARATORS):
            return index
        # "On Mon, 7 Dec 2026 at 10:02, Shop <help@shop.test>\nwrote:" over two lines.
        wrapped = index + 1 < len(lines) and _ATTRIBUTION_START.match(line)
        if wrapped and _ATTRIBUTION.match(f"{line} {lines[index + 1].strip()}"):
            return index
    return len(lines)


def reply_text_strip(text: str) -> str:
    """The new part of a reply: everything above the quoted history, trimmed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = lines[: _cut_at(lines)]
    return "\n".join(kept).strip()
