"""Lists: keyset pagination stable under inserts, sorting, filters, text patterns, and the
refusal of anything a list does not understand."""

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_unit, make_user

Rows = list[dict[str, Any]]


async def _list(client: AsyncClient, tenant: Tenant, path: str = "/v1/users",
                **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=tenant.admin)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _walk(client: AsyncClient, tenant: Tenant, *, limit: int = 3,
                after_first_page: Callable[[], Awaitable[None]] | None = None,
                **params: Any) -> Rows:
    """Every row of /v1/users, page by page, following next_cursor until it is null."""
    rows: Rows = []
    page = await _list(client, tenant, limit=limit, **params)
    if after_first_page is not None:
        await after_first_page()
    while True:
        rows += page["data"]
        if page["next_cursor"] is None:
            return rows
        assert len(page["data"]) == limit
        assert len(rows) < 100, "the walk does not end"
        page = await _list(client, tenant, limit=limit, cursor=page["next_cursor"], **params)


async def _users(client: AsyncClient, tenant: Tenant, *names: str, **fields: Any) -> Rows:
    return [await make_user(client, tenant, name=name, **fields) for name in names]


def _ids(rows: Rows) -> list[int]:
    return [r["id"] for r in rows]


async def _problem(client: AsyncClient, tenant: Tenant, path: str = "/v1/users",
                   **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_limit_3_walks_every_row_exactly_once(client: AsyncClient, tenant: Tenant):
    made = await _users(client, tenant, *[f"walker {n}" for n in range(9)])
    walked = await _walk(client, tenant)
    assert _ids(walked) == [tenant.admin_id, *_ids(made)]


@pytest.mark.parametrize("sort", ["id", "name", "-name", "created_at", "-updated_at"])
async def test_rows_inserted_during_a_walk_never_repeat_or_skip_a_row(
        client: AsyncClient, tenant: Tenant, sort: str):
    await _users(client, tenant, "kb", "kb", "kd", "kd", "kd", "kf", "kh", "kh", "kj")
    at_start = _ids((await _list(client, tenant, limit=500))["data"])
    inserted: Rows = []

    async def insert_before_and_after_the_position() -> None:
        inserted.extend(await _users(client, tenant, "aaa", "zzz", "ke"))

    walked = _ids(await _walk(client, tenant, sort=sort,
                              after_first_page=insert_before_and_after_the_position))
    assert [i for i, n in Counter(walked).items() if n > 1] == []
    assert set(at_start) <= set(walked)
    assert set(walked) <= set(at_start) | set(_ids(inserted))


async def test_sort_by_name_breaks_ties_by_id_and_descending_is_the_reverse(
        client: AsyncClient, tenant: Tenant):
    ola1, kai, ola2, mia, ola3 = await _users(client, tenant, "ola", "kai", "ola", "mia", "ola")
    mine = {"id[gte]": ola1["id"]}
    ascending = (await _list(client, tenant, sort="name", **mine))["data"]
    assert _ids(ascending) == _ids([kai, mia, ola1, ola2, ola3])
    descending = (await _list(client, tenant, sort="-name", **mine))["data"]
    assert _ids(descending) == _ids([ola3, ola2, ola1, mia, kai])
    walked = await _walk(client, tenant, limit=2, sort="-name", **mine)
    assert _ids(walked) == _ids(descending)


async def test_id_ranges_and_not_equal_filter_and_combine(client: AsyncClient, tenant: Tenant):
    u1, u2, u3, u4, u5 = await _users(client, tenant, "a", "b", "c", "d", "e")
    between = await _list(client, tenant, **{"id[gte]": u2["id"], "id[lte]": u4["id"]})
    assert _ids(between["data"]) == _ids([u2, u3, u4])
    not_u3 = await _list(client, tenant, **{"id[gte]": u1["id"], "id[ne]": u3["id"]})
    assert _ids(not_u3["data"]) == _ids([u1, u2, u4, u5])
    exact = await _list(client, tenant, id=u5["id"])
    assert _ids(exact["data"]) == [u5["id"]]


async def test_role_and_active_filter_the_list(client: AsyncClient, tenant: Tenant):
    manager = await make_user(client, tenant, role="manager")
    seller = await make_user(client, tenant, role="seller")
    retired = await make_user(client, tenant, role="seller", active=False)
    assert _ids((await _list(client, tenant, role="manager"))["data"]) == [manager["id"]]
    assert _ids((await _list(client, tenant, role="seller"))["data"]) == _ids([seller, retired])
    assert _ids((await _list(client, tenant, role="admin"))["data"]) == [tenant.admin_id]
    assert _ids((await _list(client, tenant, active="false"))["data"]) == [retired["id"]]
    active = await _list(client, tenant, active="true", role="seller")
    assert _ids(active["data"]) == [seller["id"]]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("AS%", ["Asker Sales"]),
    ("%AS", ["Bergen AS", "Oslo as"]),
    ("AS", ["Asker Sales", "Bergen AS", "Lasse Hansen", "Oslo as"]),
    ("%as%", ["Asker Sales", "Bergen AS", "Lasse Hansen", "Oslo as"]),
    ("sse", ["Lasse Hansen"]),
    ("nobody", []),
])
async def test_name_patterns_start_end_or_contain_case_insensitively(
        client: AsyncClient, tenant: Tenant, pattern: str, expected: list[str]):
    await _users(client, tenant, "Asker Sales", "Bergen AS", "Lasse Hansen", "Oslo as", "Other")
    found = (await _list(client, tenant, name=pattern))["data"]
    assert sorted(u["name"] for u in found) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("a_b", ["a_b"]), ("a%b", ["a%b"]), ("_", ["a_b"]), ("a\\b", ["a\\b"]),
    ("a_%", ["a_b"]), ("%%b", ["a%b"]),
])
async def test_underscore_and_percent_in_the_text_are_literal(
        client: AsyncClient, tenant: Tenant, pattern: str, expected: list[str]):
    await _users(client, tenant, "a_b", "axb", "a%b", "a\\b", "aab")
    found = (await _list(client, tenant, name=pattern))["data"]
    assert sorted(u["name"] for u in found) == expected


async def test_a_tampered_cursor_is_refused(client: AsyncClient, tenant: Tenant):
    await _users(client, tenant, "one", "two")
    cursor = (await _list(client, tenant, limit=1))["next_cursor"]
    for index in (0, len(cursor) // 2, len(cursor) - 2):
        flipped = "A" if cursor[index] != "A" else "B"
        tampered = cursor[:index] + flipped + cursor[index + 1:]
        problem = await _problem(client, tenant, limit=1, cursor=tampered)
        assert problem["errors"][0]["field"] == "cursor"
    for garbage in ("", "abc", "!!!!", cursor + "A"):
        assert (await _problem(client, tenant, cursor=garbage))["errors"][0]["field"] == "cursor"


async def test_a_cursor_of_another_list_or_sort_is_refused(client: AsyncClient, tenant: Tenant):
    await _users(client, tenant, "one", "two")
    for _ in range(2):
        await make_unit(client, tenant, "departments")
    users_by_id = (await _list(client, tenant, limit=1))["next_cursor"]
    departments = (await _list(client, tenant, "/v1/departments", limit=1))["next_cursor"]
    problem = await _problem(client, tenant, cursor=departments)
    assert problem["errors"][0]["field"] == "cursor"
    problem = await _problem(client, tenant, "/v1/departments", cursor=users_by_id)
    assert problem["errors"][0]["field"] == "cursor"
    for other_sort in ("name", "-id"):
        problem = await _problem(client, tenant, cursor=users_by_id, sort=other_sort)
        assert problem["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "-1", "501", "abc", "1.5"])
async def test_a_limit_outside_1_to_500_is_refused(client: AsyncClient, tenant: Tenant,
                                                   limit: str):
    problem = await _problem(client, tenant, limit=limit)
    assert problem["errors"][0]["field"] == "limit"


async def test_limits_500_and_1_are_accepted(client: AsyncClient, tenant: Tenant):
    await _users(client, tenant, "one")
    assert len((await _list(client, tenant, limit=500))["data"]) == 2
    assert len((await _list(client, tenant, limit=1))["data"]) == 1


@pytest.mark.parametrize("parameter", ["nmae", "name[gte]", "role[ne]", "id[like]",
                                       "password_hash"])
async def test_an_unknown_parameter_is_refused_by_name(client: AsyncClient, tenant: Tenant,
                                                       parameter: str):
    problem = await _problem(client, tenant, **{parameter: "x"})
    assert problem["errors"][0]["field"] == parameter


@pytest.mark.parametrize("sort", ["password_hash", "nmae", "-", "--name"])
async def test_an_unknown_sort_is_refused(client: AsyncClient, tenant: Tenant, sort: str):
    assert (await _problem(client, tenant, sort=sort))["errors"][0]["field"] == "sort"


async def test_a_filter_value_of_the_wrong_type_is_refused(client: AsyncClient, tenant: Tenant):
    for params in ({"id[gte]": "ten"}, {"role": "boss"}, {"active": "perhaps"},
                   {"id[lte]": str(2**63)}, {"id": str(-(2**63) - 1)}, {"name": "a\x00b"}):
        problem = await _problem(client, tenant, **params)
        assert problem["errors"][0]["field"] == next(iter(params))


async def test_each_organization_lists_only_its_own_rows(client: AsyncClient, tenant: Tenant,
                                                         other_tenant: Tenant):
    mine = await _users(client, tenant, "same name", "mine")
    theirs = await _users(client, other_tenant, "same name", "theirs")
    await make_unit(client, other_tenant, "departments", name="Their department")
    assert _ids(await _walk(client, tenant)) == [tenant.admin_id, *_ids(mine)]
    assert _ids(await _walk(client, other_tenant)) == [other_tenant.admin_id, *_ids(theirs)]
    named = await _list(client, tenant, name="same name")
    assert _ids(named["data"]) == [mine[0]["id"]]
    assert (await _list(client, tenant, "/v1/departments"))["data"] == []
    beyond = await _list(client, tenant, **{"id[gte]": theirs[0]["id"]})
    assert beyond["data"] == []


async def test_departments_page_and_filter_like_users(client: AsyncClient, tenant: Tenant):
    made = [await make_unit(client, tenant, "departments", name=f"Dept {n}") for n in range(7)]
    rows: Rows = []
    cursor = None
    while True:
        page = await _list(client, tenant, "/v1/departments", limit=3, sort="-name",
                           **({"cursor": cursor} if cursor else {}))
        rows += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert _ids(rows) == _ids(made[::-1])
    found = await _list(client, tenant, "/v1/departments", name="%t 3")
    assert [d["name"] for d in found["data"]] == ["Dept 3"]


@pytest.mark.parametrize(("path", "parameter", "value"), [
    ("/v1/opportunities", "probability[gte]", "1.4e106"),
    ("/v1/opportunities", "probability", "100.001"),
    ("/v1/opportunities", "amount[lte]", "1e20"),
    ("/v1/opportunities", "amount", "10.005"),
    ("/v1/reports/pipeline", "amount[gte]", "1e20"),
    ("/v1/sales-processes", "stage_count[lte]", "511119985701608"),
    ("/v1/sales-processes", "in_use[gte]", str(2**31)),
    ("/v1/lists/sources", "position[gte]", str(-(2**31) - 1)),
    ("/v1/customers", "owner_id", str(2**63)),
])
async def test_a_filter_value_beyond_what_its_column_holds_is_refused_naming_it(
        client: AsyncClient, tenant: Tenant, path: str, parameter: str, value: str):
    problem = await _problem(client, tenant, path, **{parameter: value})
    assert problem["errors"][0]["field"] == parameter


async def test_filter_values_at_the_ends_of_their_columns_are_accepted(
        client: AsyncClient, tenant: Tenant):
    for path, params in [
            ("/v1/opportunities", {"probability[lte]": "999.99", "amount[gte]": "-1.5",
                                   "amount[lte]": "9999999999999999.99"}),
            ("/v1/sales-processes", {"stage_count[lte]": str(2**31 - 1)}),
            ("/v1/lists/sources", {"position[gte]": str(-(2**31))}),
            ("/v1/users", {"id[lte]": str(2**63 - 1)})]:
        await _list(client, tenant, path, **params)


@pytest.mark.parametrize(("path", "parameter", "value"), [
    ("/v1/reports/win-loss", "to", "0"),
    ("/v1/reports/win-loss", "from", "2026-01-01T00:00:00Z"),
    ("/v1/reports/commissions", "to", "20260101"),
    ("/v1/reports/pipeline", "as_of", "1700000000"),
    ("/v1/opportunities", "expected_close_date[gte]", "1.5"),
    ("/v1/opportunities", "updated_at[ne]", "0.5"),
    ("/v1/opportunities", "closed_at[gte]", "1700000000"),
    ("/v1/opportunities", "updated_at", "2026-01-01T10:00:00"),
    ("/v1/activities", "due_at[lte]", "9999-12-31T23:59:59-01:00"),
    ("/v1/campaigns", "starts_on", "2026-1-1"),
])
async def test_dates_and_times_in_a_query_are_iso_text_or_refused_naming_it(
        client: AsyncClient, tenant: Tenant, path: str, parameter: str, value: str):
    """A date is YYYY-MM-DD and a time RFC 3339 with an offset: an epoch number, a naive
    time or another spelling is never guessed at."""
    problem = await _problem(client, tenant, path, **{parameter: value})
    assert problem["errors"][0]["field"] == parameter


async def test_iso_dates_and_times_in_a_query_are_accepted(client: AsyncClient, tenant: Tenant):
    await _list(client, tenant, "/v1/reports/win-loss", **{"from": "2026-01-01",
                                                            "to": "2026-01-31"})
    await _list(client, tenant, "/v1/opportunities", **{
        "expected_close_date[gte]": "2026-01-01", "updated_at[gte]": "2026-01-01T10:00:00Z",
        "updated_at[lte]": "2026-01-01T10:00:00.123456+01:00",
        "closed_at[ne]": "2026-01-01 10:00:00-05:00"})


async def test_a_date_given_to_a_time_filter_is_that_days_start_in_the_organizations_zone(
        client: AsyncClient, tenant: Tenant):
    """Europe/Oslo by default: 2026-12-02 starts at 2026-12-01T23:00:00Z."""
    made = []
    for due in ("2026-12-01T22:30:00Z", "2026-12-01T23:30:00Z"):
        response = await client.post("/v1/activities", headers=tenant.admin,
                                     json={"kind": "task", "subject": due, "due_at": due})
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    later = await _list(client, tenant, "/v1/activities", **{"due_at[gte]": "2026-12-02"})
    assert _ids(later["data"]) == made[1:]
    earlier = await _list(client, tenant, "/v1/activities", **{"due_at[lte]": "2026-12-02"})
    assert _ids(earlier["data"]) == made[:1]
