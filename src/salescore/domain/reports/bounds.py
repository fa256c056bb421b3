"""How much a report answers at most (OWASP API4): bounds a sales manager never meets in
normal use, so that one request cannot make the server build an answer without end.

- A report grouped by `group_by` answers at most MAX_GROUPS groups; past it the request is
  refused, naming `group_by`, rather than cut short: a report that leaves groups out would
  not add up to its total.
- A period (`from` to `to`) spans at most MAX_PERIOD_YEARS years; past it the request is
  refused, naming `to`. A period open at an end (no `from`, or no `to`) is every day the
  organization has, which its own data bounds."""

from datetime import date

from salescore.domain.errors import InvalidInput

MAX_GROUPS = 10_000
MAX_PERIOD_YEARS = 10


def groups_to_ask() -> int:
    """How many groups to ask the database for: one past the bound, to know it is passed."""
    return MAX_GROUPS + 1


def check_group_count(count: int) -> None:
    """A grouped report with more than MAX_GROUPS groups is refused (ask the database for
    MAX_GROUPS + 1 to know, never for all of them)."""
    if count > MAX_GROUPS:
        raise InvalidInput.of("group_by", f"gives more than {MAX_GROUPS} groups: filter the "
                                          "report or group by fewer keys")


def years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check_period_length(start: date | None, end: date | None) -> None:
    """`to` at most MAX_PERIOD_YEARS years after `from` (10 years: 2017-03-01 to
    2027-03-01 is accepted, to 2027-03-02 refused)."""
    if start is None or end is None or start.year + MAX_PERIOD_YEARS > date.max.year:
        return
    if end > years_after(start, MAX_PERIOD_YEARS):
        raise InvalidInput.of("to", f"must be at most {MAX_PERIOD_YEARS} years after from")
