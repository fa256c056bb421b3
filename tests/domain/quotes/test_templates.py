"""Quote templates: filling the e-mail placeholders, and what a template write may hold."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.quotes.templates import (
    DEFAULT_EMAIL_MESSAGE,
    DEFAULT_EMAIL_SUBJECT,
    PLACEHOLDERS,
    check_template_values,
    fill_email_text,
    unknown_placeholders,
)

VALUES = {"link": "https://q.test/abc", "number": "Q-2026-0007", "customer": "Nordlys AS",
          "seller": "Kari Nordmann", "valid_until": "2026-12-31"}


def _errors(values: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as refused:
        check_template_values(values)
    return [(e.field, e.message) for e in refused.value.errors]


def test_each_of_the_five_placeholders_is_filled_in():
    text = "{link} {number} {customer} {seller} {valid_until}"
    assert fill_email_text(text, VALUES) == (
        "https://q.test/abc Q-2026-0007 Nordlys AS Kari Nordmann 2026-12-31")


def test_a_placeholder_is_filled_in_every_time_it_appears():
    assert fill_email_text("{number}, again {number}", VALUES) == (
        "Q-2026-0007, again Q-2026-0007")


@pytest.mark.parametrize("text", [
    "{", "}", "a { b", "{ link }", "{1}", "{Link}", "{unknown}", "{}", "{{", "{link",
    "link}", "{0:>5}", "{number!r}", "%(link)s", "${",
])
def test_braces_that_are_not_a_placeholder_stay_as_written(text: str):
    assert fill_email_text(text, VALUES) == text


def test_stray_braces_around_filled_placeholders_are_kept():
    assert fill_email_text("{ {number} } {x} {{link}} {", VALUES) == (
        "{ Q-2026-0007 } {x} {https://q.test/abc} {")


def test_a_value_that_reads_as_a_placeholder_is_not_filled_in_again():
    assert fill_email_text("{customer} / {seller}",
                           {**VALUES, "customer": "{seller}"}) == "{seller} / Kari Nordmann"


def test_a_placeholder_without_a_value_stays_as_written():
    assert fill_email_text("{number} {link}", {"number": "Q-1"}) == "Q-1 {link}"


@given(st.text(alphabet="{}_ abcdeiklmnorstuv", max_size=40))
def test_filling_never_fails_and_leaves_no_placeholder_behind(text: str):
    filled = fill_email_text(text, VALUES)
    assert not any(f"{{{p}}}" in filled for p in PLACEHOLDERS)
    if not any(f"{{{p}}}" in text for p in PLACEHOLDERS):
        assert filled == text


def test_the_standard_texts_fill_in_completely():
    subject = fill_email_text(DEFAULT_EMAIL_SUBJECT, VALUES)
    message = fill_email_text(DEFAULT_EMAIL_MESSAGE, VALUES)
    assert subject == "Quote Q-2026-0007 from Kari Nordmann"
    assert "https://q.test/abc" in message and "2026-12-31" in message
    assert "{" not in subject + message


def test_unknown_placeholders_are_listed_once_in_order():
    assert unknown_placeholders("{b} {link} {a} {b} { c } {1}") == ["b", "a"]


@pytest.mark.parametrize("field", ["email_subject", "email_message"])
def test_an_unknown_placeholder_is_refused_naming_the_field_and_the_known_ones(field: str):
    [(named, message)] = _errors({field: "Your quote {quote_number}"})
    assert named == field
    assert "{quote_number}" in message
    assert all(f"{{{p}}}" in message for p in PLACEHOLDERS)


def test_both_e_mail_texts_are_checked_at_once():
    assert [f for f, _ in _errors({"email_subject": "{a}", "email_message": "{b}"})] == [
        "email_subject", "email_message"]


def test_known_placeholders_and_plain_braces_are_accepted():
    values = {"email_subject": "Quote {number} { for you }",
              "email_message": "See {link} by {valid_until}: {1}, {"}
    assert check_template_values(values) == values


def test_an_e_mail_subject_is_one_line():
    assert _errors({"email_subject": "Quote\nBcc: x@y.test"}) == [
        ("email_subject", "must be one line (an e-mail subject)")]


@pytest.mark.parametrize("color", ["#1f6feb", "#1F6FEB", "#000000"])
def test_an_accent_colour_is_kept_in_capitals(color: str):
    assert check_template_values({"accent_color": color}) == {"accent_color": color.upper()}


@pytest.mark.parametrize("color", ["1F6FEB", "#1F6FE", "#1F6FEB0", "#GGGGGG", "red", "",
                                   "#1F6FEB\n", "#FFF"])
def test_an_accent_colour_other_than_rrggbb_is_refused(color: str):
    assert [f for f, _ in _errors({"accent_color": color})] == ["accent_color"]


def test_cleared_e_mail_texts_take_the_standard_wording():
    assert check_template_values({"email_subject": None, "email_message": None,
                                  "accent_color": None}) == {
        "email_subject": DEFAULT_EMAIL_SUBJECT, "email_message": DEFAULT_EMAIL_MESSAGE,
        "accent_color": None}


def test_fields_not_given_stay_out():
    assert check_template_values({"name": "Standard"}) == {"name": "Standard"}
