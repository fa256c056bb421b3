"""Follow-up rules and activity rules (DOMAIN.md §5), without a database."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from salescore.domain.activities.activities import (
    Activity,
    ActivityKind,
    FollowUpSettings,
    Origin,
    check_period,
    follow_ups,
    mark_done,
    start_of_day,
)
from salescore.domain.activities.notifications import notifications_for
from salescore.domain.errors import InvalidInput
from salescore.domain.events import DomainEvent
from tests.domain.sales.test_opportunities import NOW, opportunity

OFF = FollowUpSettings(reminder_enabled=False)


def test_a_follow_up_date_on_create_gives_a_task_at_the_start_of_that_day():
    new = opportunity(follow_up_date=date(2026, 12, 1), description="Call about fleet",
                      contact_id=4)
    [task] = follow_ups(None, new, OFF, now=NOW, actor_id=10)
    assert task.due_at == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # Oslo is UTC+1
    assert (task.kind, task.origin, task.done) == (ActivityKind.TASK, Origin.FOLLOW_UP, False)
    assert (task.text, task.assignee_id, task.customer_id, task.contact_id,
            task.opportunity_id) == ("Call about fleet", 10, 1, 4, 7)


def test_a_new_date_gives_a_task_and_the_same_or_no_date_gives_none():
    before = opportunity(follow_up_date=date(2026, 12, 1))
    assert len(follow_ups(before, replace(before, follow_up_date=date(2026, 12, 2)), OFF,
                          now=NOW, actor_id=1)) == 1
    assert follow_ups(before, before, OFF, now=NOW, actor_id=1) == []
    assert follow_ups(before, replace(before, follow_up_date=None), OFF, now=NOW,
                      actor_id=1) == []


def test_a_new_opportunity_gets_a_reminder_when_the_organization_wants_one():
    settings = FollowUpSettings(reminder_enabled=True, reminder_days=2)
    [reminder] = follow_ups(None, opportunity(), settings, now=NOW, actor_id=None)
    assert (reminder.origin, reminder.due_at, reminder.assignee_id) == (
        Origin.OPPORTUNITY_CREATED, NOW + timedelta(days=2), 10)
    both = follow_ups(None, opportunity(follow_up_date=date(2026, 12, 1)), settings, now=NOW,
                      actor_id=None)
    assert [t.origin for t in both] == [Origin.FOLLOW_UP, Origin.OPPORTUNITY_CREATED]
    assert follow_ups(opportunity(), replace(opportunity(), name="x"), settings, now=NOW,
                      actor_id=None) == []


def test_the_start_of_a_day_follows_the_zone():
    assert start_of_day(date(2026, 7, 1), "Europe/Oslo") == datetime(2026, 6, 30, 22,
                                                                      tzinfo=UTC)


def test_an_appointment_needs_a_start_before_its_end():
    with pytest.raises(InvalidInput):
        check_period(ActivityKind.APPOINTMENT, NOW, None)
    with pytest.raises(InvalidInput):
        check_period(ActivityKind.APPOINTMENT, NOW, NOW)
    with pytest.raises(InvalidInput):
        check_period(ActivityKind.CALL, NOW, NOW - timedelta(minutes=1))
    check_period(ActivityKind.APPOINTMENT, NOW, NOW + timedelta(hours=1))
    check_period(ActivityKind.TASK, None, None)


def test_done_sets_done_at_and_undoing_clears_it():
    task = Activity(1, 1, ActivityKind.TASK, "Call", None, None, None, None, False, None,
                    None, None, None, None, Origin.MANUAL, NOW, None, NOW, 1)
    done = mark_done(task, True, NOW)
    assert (done.done, done.done_at) == (True, NOW)
    assert mark_done(done, True, NOW + timedelta(hours=1)).done_at == NOW
    assert (mark_done(done, False, NOW).done, mark_done(done, False, NOW).done_at) == (
        False, None)


def test_people_are_told_of_what_others_give_them_and_not_of_their_own_doing():
    assigned = DomainEvent("opportunity.updated", "opportunity", 7, {
        "changes": {"owner_id": {"from": 1, "to": 2}}, "name": "Fleet"})
    [note] = notifications_for(assigned, {"type": "user", "id": 1})
    assert (note.user_id, note.type, note.opportunity_id) == (2, "opportunity_assigned", 7)
    assert notifications_for(assigned, {"type": "user", "id": 2}) == []
    shared = DomainEvent("opportunity.seller_changed", "opportunity", 7, {"changes": {
        "sellers": {"from": [{"user_id": 1, "share": "100.00"}],
                    "to": [{"user_id": 1, "share": "60.00"}, {"user_id": 3,
                                                               "share": "40.00"}]}}})
    assert [(n.user_id, n.type) for n in notifications_for(
        shared, {"type": "api_key", "id": 5})] == [(3, "seller_share_given")]
    task = DomainEvent("activity.created", "activity", 9, {
        "changes": {"assignee_id": {"from": None, "to": 4}}, "kind": "task",
        "subject": "Call"})
    assert [n.type for n in notifications_for(task, {"type": "user", "id": 1})] == [
        "activity_assigned"]
