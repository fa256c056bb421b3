"""The API's write paths and, for each, a raw-asyncpg baseline that writes the same rows.

A `WritePath` is one request of the API (method, path and JSON body, whose `{name}` holes
are filled per request with integers: random in a range, or `{id}` the next opportunity of
a pool of untouched ones) and `baseline`, the same writes done by hand on an asyncpg
connection, inside the transaction its caller holds open (one per call). A baseline sends
one statement per table it writes and reads nothing but what those statements need for
their own values (the old values an event's "from" names, taken by the UPDATE itself); it
checks nothing, takes no other lock and renders no answer. The history tables
(opportunity_history, opportunity_seller_history) are written by the database's triggers
on opportunities and opportunity_sellers, for the API and the baseline alike.

`rows` is what one call writes, per table, as (rows inserted, rows changed): a row
changed is one that is there before and after with another version of its tuple, so the
API's delete-and-insert of an opportunity's sellers and the baseline's UPDATE of the one
seller count alike. tests/bench/test_baselines.py runs every path both ways against a real
database and checks both against `rows`, so that the API and its baseline cannot drift
apart. The API calls are made as the organization's admin (`World.actor_id`), with a JWT.

Values are drawn so that every call changes what it names: creates give the opportunity
to another user than the caller (the owner and the reminder task's assignee are told:
two notifications); PATCH sets a random amount (the same as before once in 9,999 calls,
when the API writes nothing and the baseline still does); move, win, lose and the seller
added take a fresh opportunity of the pool each (open, in the first stage, its owner its
one seller); an activity is a task on a random opportunity for another user."""

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import asyncpg

Values = Mapping[str, int]
Range = tuple[int, int]
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
SELLER_SHARE = Decimal("50.00")
LOSS_NOTE = "Too expensive"
_HOLE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class World:
    """The organization the writes go to, and what the paths pick their values from.
    `users` are other users than the actor, owners and assignees (inclusive id range);
    `seller_id` is a user who owns none of the pool's opportunities."""

    organization_id: int
    actor_id: int
    users: Range
    seller_id: int
    customers: Range
    opportunities: Range
    process_id: int
    open_stages: tuple[tuple[int, Decimal], ...]  # (id, probability) by position
    won_stage_id: int
    lost_stage_id: int
    currency: str
    reminder_days: int

    @property
    def actor(self) -> str:
        return json.dumps({"type": "user", "id": self.actor_id})


Baseline = Callable[[asyncpg.Connection, World, Values], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class WritePath:
    """One write of the API and its baseline; `baseline` returns False when it found
    nothing to write (a pool used up), which counts as an error."""

    name: str
    method: str
    path: str
    body: Callable[[World], str]
    ranges: Callable[[World], dict[str, Range]]
    baseline: Baseline
    rows: Mapping[str, tuple[int, int]]
    pooled: bool = False
    expect: int = 200


async def load_world(connection: asyncpg.Connection, *, organization_id: int, actor_id: int,
                     users: Range, seller_id: int, customers: Range, opportunities: Range,
                     process_id: int) -> World:
    """The process's stages and the organization's settings, read from the database."""
    stages = await connection.fetch(
        "SELECT id, kind, probability FROM stages WHERE organization_id = $1"
        " AND sales_process_id = $2 ORDER BY position", organization_id, process_id)
    settings = await connection.fetchrow(
        "SELECT base_currency, reminder_task_days FROM organizations WHERE id = $1",
        organization_id)
    opens = tuple((s["id"], s["probability"]) for s in stages if s["kind"] == "open")
    if len(opens) < 2:
        raise ValueError("the process needs two open stages (a move goes to the second)")
    return World(
        organization_id=organization_id, actor_id=actor_id, users=users,
        seller_id=seller_id, customers=customers, opportunities=opportunities,
        process_id=process_id, open_stages=opens,
        won_stage_id=next(s["id"] for s in stages if s["kind"] == "won"),
        lost_stage_id=next(s["id"] for s in stages if s["kind"] == "lost"),
        currency=settings["base_currency"], reminder_days=settings["reminder_task_days"])


def render(template: str, values: Values) -> str:
    """`{name}` holes filled from `values`, as bench/lua/random.lua and random_load.py
    fill them; a hole with no value stays."""
    return _HOLE.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], template)


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def weighted(amount: Decimal, probability: Decimal) -> Decimal:
    return (amount * probability / HUNDRED).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _change(old: Any, new: Any) -> dict[str, Any]:
    return {"from": old, "to": new}


# -- create: POST /v1/opportunities -----------------------------------------------------

INSERT_OPPORTUNITY = """INSERT INTO opportunities (organization_id, name, customer_id,
    owner_id, sales_process_id, stage_id, last_open_stage_id, status, amount, currency,
    probability, probability_source, expected_close_date, created_at, created_by,
    updated_at, updated_by)
    VALUES ($1, $2, $3, $4, $5, $6, $6, 'open', $7, $8, $9, 'stage', $10, $11, $12, $11, $12)
    RETURNING id"""
INSERT_SELLER = """INSERT INTO opportunity_sellers (organization_id, opportunity_id, user_id,
    share, added_seq) VALUES ($1, $2, $3, $4, $5)"""
INSERT_TASK = """INSERT INTO activities (organization_id, kind, subject, due_at, done,
    assignee_id, customer_id, opportunity_id, origin, created_at, created_by, updated_at)
    VALUES ($1, 'task', $2, $3, false, $4, $5, $6, 'opportunity_created', $7, $8, $7)
    RETURNING id"""
INSERT_TWO_EVENTS = """INSERT INTO events (organization_id, aggregate_type, aggregate_id,
    type, data, actor) VALUES ($1, $2, $3, $4, $5, $10), ($1, $6, $7, $8, $9, $10)"""
INSERT_TWO_NOTIFICATIONS = """INSERT INTO notifications (organization_id, user_id, type,
    opportunity_id, activity_id, text) VALUES ($1, $2, $3, $4, NULL, $5),
    ($1, $2, $6, $4, $7, $8)"""


def create_body(world: World) -> str:
    return ('{"name": "Bench {n}", "customer_id": {customer}, "owner_id": {owner},'
            ' "amount": "{amount}00.00", "expected_close_date": "2027-0{month}-1{day}"}')


def create_ranges(world: World) -> dict[str, Range]:
    return {"n": (1, 10**9), "customer": world.customers, "owner": world.users,
            "amount": (1, 9999), "month": (1, 9), "day": (0, 9)}


async def create(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """The opportunity, its owner as its one seller, the reminder task for the owner, the
    two events (opportunity.created, activity.created) and the owner's two notifications
    (opportunity_assigned, activity_assigned)."""
    org, owner, customer = world.organization_id, values["owner"], values["customer"]
    name = f"Bench {values['n']}"
    amount = Decimal(values["amount"] * 100).quantize(CENT)
    close = date(2027, values["month"], 10 + values["day"])
    stage, probability = world.open_stages[0]
    now = datetime.now(UTC)
    opportunity_id = await connection.fetchval(
        INSERT_OPPORTUNITY, org, name, customer, owner, world.process_id, stage, amount,
        world.currency, probability, close, now, world.actor_id)
    await connection.execute(INSERT_SELLER, org, opportunity_id, owner, HUNDRED, 0)
    subject = f"Follow up the new opportunity: {name}"
    due = now + timedelta(days=world.reminder_days)
    task_id = await connection.fetchval(INSERT_TASK, org, subject, due, owner, customer,
                                        opportunity_id, now, world.actor_id)
    created = {"name": name, "customer_id": customer, "owner_id": owner,
               "sales_process_id": world.process_id, "stage_id": stage, "status": "open",
               "amount": money(amount), "currency": world.currency,
               "probability": money(probability), "probability_source": "stage",
               "expected_close_date": close.isoformat(),
               "weighted_amount": money(weighted(amount, probability))}
    task = {"kind": "task", "subject": subject, "due_at": due.isoformat(), "done": False,
            "assignee_id": owner, "customer_id": customer, "opportunity_id": opportunity_id,
            "origin": "opportunity_created"}
    await connection.execute(
        INSERT_TWO_EVENTS, org, "opportunity", opportunity_id, "opportunity.created",
        json.dumps({"changes": {k: _change(None, v) for k, v in created.items()},
                    "name": name}),
        "activity", task_id, "activity.created",
        json.dumps({"changes": {k: _change(None, v) for k, v in task.items()},
                    "kind": "task", "subject": subject, "opportunity_id": opportunity_id}),
        world.actor)
    await connection.execute(
        INSERT_TWO_NOTIFICATIONS, org, owner, "opportunity_assigned", opportunity_id,
        f"The opportunity {name} was assigned to you", "activity_assigned", task_id,
        f"The task {subject} was assigned to you")
    return True


# -- changes of one opportunity ---------------------------------------------------------

INSERT_EVENT = """INSERT INTO events (organization_id, aggregate_type, aggregate_id, type,
    data, actor) VALUES ($1, $2, $3, $4, $5, $6)"""
# Each UPDATE locks the row and reads its old values in the same statement.
UPDATE_AMOUNT = """UPDATE opportunities o SET amount = $3, version = o.version + 1,
    updated_at = now(), updated_by = $4
    FROM (SELECT id, amount, weighted_amount FROM opportunities
          WHERE organization_id = $1 AND id = $2 FOR UPDATE) old
    WHERE o.organization_id = $1 AND o.id = old.id
    RETURNING o.name, old.amount AS old_amount, old.weighted_amount AS old_weighted,
              o.weighted_amount"""
UPDATE_STAGE = """UPDATE opportunities o SET status = $3, stage_id = $4, probability = $5,
    probability_source = 'stage', last_open_stage_id = CASE WHEN $3 = 'open' THEN $4
    ELSE old.stage_id END, closed_at = CASE WHEN $3 = 'open' THEN NULL ELSE now() END,
    loss_note = $6, version = o.version + 1, updated_at = now(), updated_by = $7
    FROM (SELECT id, stage_id, probability, weighted_amount FROM opportunities
          WHERE organization_id = $1 AND id = $2 AND status = 'open' FOR UPDATE) old
    WHERE o.organization_id = $1 AND o.id = old.id
    RETURNING o.name, old.stage_id AS old_stage, old.probability AS old_probability,
              old.weighted_amount AS old_weighted, o.weighted_amount, o.closed_at"""


async def _event(connection: asyncpg.Connection, world: World, opportunity_id: int,
                 kind: str, name: str, changes: dict[str, Any]) -> None:
    await connection.execute(INSERT_EVENT, world.organization_id, "opportunity",
                             opportunity_id, kind,
                             json.dumps({"changes": changes, "name": name}), world.actor)


async def patch(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """The new amount (the history by trigger) and opportunity.updated."""
    amount = Decimal(values["amount"] * 100).quantize(CENT)
    row = await connection.fetchrow(UPDATE_AMOUNT, world.organization_id, values["id"],
                                    amount, world.actor_id)
    if row is None:
        return False
    await _event(connection, world, values["id"], "opportunity.updated", row["name"], {
        "amount": _change(money(row["old_amount"]), money(amount)),
        "weighted_amount": _change(money(row["old_weighted"]),
                                   money(row["weighted_amount"]))})
    return True


async def _place(connection: asyncpg.Connection, world: World, opportunity_id: int, *,
                 status: str, stage_id: int, probability: Decimal, kind: str,
                 note: str | None = None) -> bool:
    row = await connection.fetchrow(UPDATE_STAGE, world.organization_id, opportunity_id,
                                    status, stage_id, probability, note, world.actor_id)
    if row is None:
        return False
    changes = {"stage_id": _change(row["old_stage"], stage_id)}
    if status != "open":
        changes["status"] = _change("open", status)
    changes["probability"] = _change(money(row["old_probability"]), money(probability))
    if note is not None:
        changes["loss_note"] = _change(None, note)
    if row["closed_at"] is not None:
        changes["closed_at"] = _change(None, row["closed_at"].isoformat())
    changes["weighted_amount"] = _change(money(row["old_weighted"]),
                                         money(row["weighted_amount"]))
    await _event(connection, world, opportunity_id, kind, row["name"], changes)
    return True


async def move(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """To the second open stage, at its probability; opportunity.stage_changed."""
    stage, probability = world.open_stages[1]
    return await _place(connection, world, values["id"], status="open", stage_id=stage,
                        probability=probability, kind="opportunity.stage_changed")


async def win(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """To the won stage at 100 %, closed now; opportunity.won."""
    return await _place(connection, world, values["id"], status="won",
                        stage_id=world.won_stage_id, probability=HUNDRED,
                        kind="opportunity.won")


async def lose(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """To the lost stage at 0 %, closed now, with the loss note; opportunity.lost."""
    return await _place(connection, world, values["id"], status="lost",
                        stage_id=world.lost_stage_id, probability=Decimal(0),
                        kind="opportunity.lost", note=LOSS_NOTE)


BUMP_VERSION = """UPDATE opportunities SET version = version + 1, updated_at = now(),
    updated_by = $3 WHERE organization_id = $1 AND id = $2 RETURNING name"""
SPLIT_SHARE = """UPDATE opportunity_sellers SET share = $3 WHERE organization_id = $1
    AND opportunity_id = $2 RETURNING user_id"""
INSERT_NOTIFICATION = """INSERT INTO notifications (organization_id, user_id, type,
    opportunity_id, activity_id, text) VALUES ($1, $2, $3, $4, $5, $6)"""


async def add_seller(connection: asyncpg.Connection, world: World, values: Values) -> bool:
    """A new version of the opportunity, its one seller down to 50 %, the new seller at
    50 % (the seller history by trigger), opportunity.seller_changed and the new seller's
    notification (seller_share_given)."""
    org, opportunity_id, new = world.organization_id, values["id"], world.seller_id
    name = await connection.fetchval(BUMP_VERSION, org, opportunity_id, world.actor_id)
    if name is None:
        return False
    rest = HUNDRED - SELLER_SHARE
    owner = await connection.fetchval(SPLIT_SHARE, org, opportunity_id, rest)
    await connection.execute(INSERT_SELLER, org, opportunity_id, new, SELLER_SHARE, 1)
    await _event(connection, world, opportunity_id, "opportunity.seller_changed", name, {
        "sellers": _change([{"user_id": owner, "share": money(HUNDRED)}],
                           [{"user_id": owner, "share": money(rest)},
                            {"user_id": new, "share": money(SELLER_SHARE)}])})
    await connection.execute(INSERT_NOTIFICATION, org, new, "seller_share_given",
                             opportunity_id, None, f"You were given {money(SELLER_SHARE)} % "
                             f"of the opportunity {name}")
    return True


def seller_body(world: World) -> str:
    return f'{{"user_id": {world.seller_id}, "share": "{money(SELLER_SHARE)}"}}'


# -- an activity: POST /v1/activities ---------------------------------------------------

INSERT_ACTIVITY = """INSERT INTO activities (organization_id, kind, subject, due_at, done,
    assignee_id, customer_id, opportunity_id, origin, created_at, created_by, updated_at)
    SELECT $1, 'task', $2, $3, false, $4, customer_id, id, 'manual', now(), $5, now()
    FROM opportunities WHERE organization_id = $1 AND id = $6
    RETURNING id, customer_id"""


def activity_body(world: World) -> str:
    return ('{"kind": "task", "subject": "Call back {n}", "due_at": "2027-01-1{day}T09:00:00Z",'
            ' "opportunity_id": {id}, "assignee_id": {user}}')


async def create_activity(connection: asyncpg.Connection, world: World,
                          values: Values) -> bool:
    """A task on an opportunity (its customer taken along) for another user,
    activity.created and the assignee's notification (activity_assigned)."""
    org, user = world.organization_id, values["user"]
    subject = f"Call back {values['n']}"
    due = datetime(2027, 1, 10 + values["day"], 9, tzinfo=UTC)
    row = await connection.fetchrow(INSERT_ACTIVITY, org, subject, due, user, world.actor_id,
                                    values["id"])
    if row is None:
        return False
    task = {"kind": "task", "subject": subject, "due_at": due.isoformat(), "done": False,
            "assignee_id": user, "customer_id": row["customer_id"],
            "opportunity_id": values["id"], "origin": "manual"}
    await connection.execute(INSERT_EVENT, org, "activity", row["id"], "activity.created",
                             json.dumps({"changes": {k: _change(None, v)
                                                     for k, v in task.items()},
                                         "kind": "task", "subject": subject,
                                         "opportunity_id": values["id"]}), world.actor)
    await connection.execute(INSERT_NOTIFICATION, org, user, "activity_assigned",
                             values["id"], row["id"],
                             f"The task {subject} was assigned to you")
    return True


# -- the paths ---------------------------------------------------------------------------

def _no_ranges(world: World) -> dict[str, Range]:
    return {}


CREATE = WritePath(
    "create", "POST", "/v1/opportunities", create_body, create_ranges, create,
    rows={"opportunities": (1, 0), "opportunity_sellers": (1, 0),
          "opportunity_history": (1, 0), "opportunity_seller_history": (1, 0),
          "activities": (1, 0), "events": (2, 0), "notifications": (2, 0)},
    expect=201)
# A change of a tracked column closes the current history row and opens another.
_STATE_CHANGE = {"opportunities": (0, 1), "opportunity_history": (1, 1), "events": (1, 0)}
PATCH = WritePath(
    "patch", "PATCH", "/v1/opportunities/{id}", lambda world: '{"amount": "{amount}00.00"}',
    lambda world: {"id": world.opportunities, "amount": (1, 9999)}, patch,
    rows=_STATE_CHANGE)
MOVE = WritePath(
    "move", "POST", "/v1/opportunities/{id}/move",
    lambda world: f'{{"stage_id": {world.open_stages[1][0]}}}', _no_ranges, move,
    rows=_STATE_CHANGE, pooled=True)
WIN = WritePath("win", "POST", "/v1/opportunities/{id}/win", lambda world: "{}", _no_ranges,
                win, rows=_STATE_CHANGE, pooled=True)
LOSE = WritePath(
    "lose", "POST", "/v1/opportunities/{id}/lose",
    lambda world: f'{{"loss_note": "{LOSS_NOTE}"}}', _no_ranges, lose, rows=_STATE_CHANGE,
    pooled=True)
ADD_SELLER = WritePath(
    "add_seller", "POST", "/v1/opportunities/{id}/sellers", seller_body, _no_ranges,
    add_seller,
    rows={"opportunities": (0, 1), "opportunity_sellers": (1, 1),
          "opportunity_seller_history": (2, 1), "events": (1, 0), "notifications": (1, 0)},
    pooled=True)
CREATE_ACTIVITY = WritePath(
    "create_activity", "POST", "/v1/activities", activity_body,
    lambda world: {"id": world.opportunities, "user": world.users, "n": (1, 10**9),
                   "day": (0, 9)},
    create_activity, rows={"activities": (1, 0), "events": (1, 0), "notifications": (1, 0)},
    expect=201)
PATHS = (CREATE, PATCH, MOVE, WIN, LOSE, ADD_SELLER, CREATE_ACTIVITY)


# -- the pool ----------------------------------------------------------------------------

MAKE_POOL = """WITH made AS (
    INSERT INTO opportunities (organization_id, name, customer_id, owner_id,
        sales_process_id, stage_id, last_open_stage_id, amount, currency, probability,
        expected_close_date, created_by, updated_by)
    SELECT $1, 'Pool ' || g, $2 + g % $3, $4 + g % $5, $6, $7, $7, 1000 + g % 97 * 100, $8,
           $9, DATE '2027-01-15', $10, $10
    FROM generate_series(1, $11) AS g
    RETURNING id, owner_id
), sellers AS (
    INSERT INTO opportunity_sellers (organization_id, opportunity_id, user_id, share,
        added_seq)
    SELECT $1, id, owner_id, 100.00, 0 FROM made RETURNING opportunity_id
) SELECT min(opportunity_id) AS first, max(opportunity_id) AS last, count(*) AS made
FROM sellers"""


async def make_pool(connection: asyncpg.Connection, world: World, count: int) -> Range:
    """`count` new opportunities with consecutive ids (first, last), open in the first
    stage, each owned by one of `users` as its one seller (the history by trigger). The
    table is locked against other inserts meanwhile, so that no id comes between."""
    stage, probability = world.open_stages[0]
    async with connection.transaction():
        await connection.execute("LOCK TABLE opportunities IN SHARE ROW EXCLUSIVE MODE")
        row = await connection.fetchrow(
            MAKE_POOL, world.organization_id, world.customers[0],
            world.customers[1] - world.customers[0] + 1, world.users[0],
            world.users[1] - world.users[0] + 1, world.process_id, stage, world.currency,
            probability, world.actor_id, count)
    if row["last"] - row["first"] + 1 != row["made"]:
        raise RuntimeError("the pool's ids are not consecutive")
    return row["first"], row["last"]
