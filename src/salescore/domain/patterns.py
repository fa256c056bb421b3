"""Text search patterns (DOMAIN.md §7): `AS%` starts with AS, `%AS` ends with AS, `AS` (or
`%AS%`) contains AS; always case-insensitive. A `%` anywhere else, and every `_`, is a
literal character, never a wildcard."""

from dataclasses import dataclass
from enum import StrEnum


class Match(StrEnum):
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"


@dataclass(frozen=True, slots=True)
class TextPattern:
    text: str
    match: Match

    def like(self, escape: str = "\\") -> str:
        """The pattern as an SQL LIKE operand, user text escaped with `escape`."""
        literal = (
            self.text.replace(escape, escape * 2)
            .replace("%", escape + "%")
            .replace("_", escape + "_")
        )
        if self.match is Match.STARTS_WITH:
            return f"{literal}%"
        if self.match is Match.ENDS_WITH:
            return f"%{literal}"
        return f"%{literal}%"


def parse_pattern(raw: str) -> TextPattern:
    """Read a search string as DOMAIN.md §7 defines it."""
    starts = raw.startswith("%") and len(raw) > 1
    ends = raw.endswith("%") and len(raw) > 1
    if starts and ends:
        return TextPattern(raw[1:-1], Match.CONTAINS)
    if ends:
        return TextPattern(raw[:-1], Match.STARTS_WITH)
    if starts:
        return TextPattern(raw[1:], Match.ENDS_WITH)
    return TextPattern(raw, Match.CONTAINS)
