"""A customer's email reply without the history their mail program quoted under it.

`mail-parser-reply` finds where the quoted history starts: the attribution line in the
customer's mail program's language ("On … wrote:", "Am … schrieb", wrapped over two lines as
Gmail does), an Outlook "From:" block, an "-----Original Message-----" separator, quoted lines.
Two things it leaves are cut here: quoted lines under an attribution it does not know (the
line before the first "> " line, when it ends with a colon, is that attribution, in whatever
language), and a signature, which a case's thread does not need: the "-- " separator and a
phone's "Sent from my …" line."""

import re

from mailparser_reply import EmailReplyParser

# The languages whose attribution lines are recognised (English is always included).
_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "nl", "it", "da", "sv", "pl"])
_SIGNATURE = (
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*sent from my \w+", re.IGNORECASE),
    re.compile(r"^\s*von meinem \w+ gesendet", re.IGNORECASE),
)


def _end(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _SIGNATURE):
            return index
        if line.lstrip().startswith(">"):
            before = [i for i in range(index) if lines[i].strip()]
            attribution = before and lines[before[-1]].rstrip().endswith(":")
            return before[-1] if attribution else index
    return len(lines)


def reply_text_strip(text: str) -> str:
    """The new part of a reply: everything above the quoted history and the signature."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_PARSER.parse_reply(normalised) or "").split("\n")
    return "\n".join(lines[: _end(lines)]).strip()
