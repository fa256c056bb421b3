"""Search patterns, DOMAIN.md §7."""

import re

from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.patterns import Match, TextPattern, parse_pattern


def test_a_trailing_percent_means_starts_with():
    assert parse_pattern("AS%") == TextPattern("AS", Match.STARTS_WITH)


def test_a_leading_percent_means_ends_with():
    assert parse_pattern("%AS") == TextPattern("AS", Match.ENDS_WITH)


def test_plain_text_means_contains():
    assert parse_pattern("AS") == TextPattern("AS", Match.CONTAINS)


def test_percent_on_both_sides_means_contains():
    assert parse_pattern("%nord%") == TextPattern("nord", Match.CONTAINS)


def test_a_lone_percent_is_a_literal_contains():
    assert parse_pattern("%") == TextPattern("%", Match.CONTAINS)


def test_wildcards_inside_the_text_are_escaped():
    assert parse_pattern("50%_off%").like() == "50\\%\\_off%"
    assert parse_pattern("a\\b").like() == "%a\\\\b%"


def _like_to_regex(like: str) -> str:
    out, i = [], 0
    while i < len(like):
        char = like[i]
        if char == "\\":
            out.append(re.escape(like[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return "".join(out)


@given(st.text(max_size=12), st.text(max_size=12))
def test_the_like_operand_matches_exactly_what_the_pattern_means(raw: str, value: str):
    pattern = parse_pattern(raw)
    matched = re.fullmatch(_like_to_regex(pattern.like()), value, re.DOTALL) is not None
    expected = {
        Match.STARTS_WITH: value.startswith(pattern.text),
        Match.ENDS_WITH: value.endswith(pattern.text),
        Match.CONTAINS: pattern.text in value,
    }[pattern.match]
    assert matched == expected
