"""Quote templates: create, read, list, change, delete; unique names, colours, e-mail
placeholders and their standard texts, scopes, tenants, versions, use by quotes and the
change feed."""

from typing import Any

import pytest
from httpx import AsyncClient

from salescore.domain.errors import Conflict
from salescore.domain.quotes.templates import DEFAULT_EMAIL_MESSAGE, DEFAULT_EMAIL_SUBJECT
from salescore.repositories.unit_of_work import UnitOfWork
from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import sql
from tests.quote_factories import create_quote_template, delete_quote, insert_quote

URL = "/v1/quote-templates"
EVENTS = "quote_template.created,quote_template.updated,quote_template.deleted"


async def _read(client: AsyncClient, tenant: Tenant, template_id: int) -> dict[str, Any]:
    response = await client.get(f"{URL}/{template_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await client.get(URL, params={"limit": 500, **params}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()["data"]]


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


async def test_a_template_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                     tenant: Tenant):
    created = await client.post(URL, headers=tenant.admin, json={
        "name": "Standard offer", "header_text": "Dear customer,", "footer_text": "Acme AS",
        "terms": "Net 30 days.", "accent_color": "#1f6feb",
        "email_subject": "Your quote {number}", "email_message": "Read it at {link}."})
    assert created.status_code == 201, created.text
    template = created.json()
    assert created.headers["location"] == f"{URL}/{template['id']}"
    assert created.headers["etag"] == '"1"'
    assert {k: v for k, v in template.items() if k not in ("id", "created_at",
                                                           "updated_at")} == {
        "name": "Standard offer", "header_text": "Dear customer,", "footer_text": "Acme AS",
        "terms": "Net 30 days.", "accent_color": "#1F6FEB",
        "email_subject": "Your quote {number}", "email_message": "Read it at {link}.",
        "active": True, "version": 1}
    read = await client.get(f"{URL}/{template['id']}", headers=tenant.admin)
    assert (read.json(), read.headers["etag"]) == (template, '"1"')
    assert await _names(client, tenant) == ["Standard offer"]
    patched = await client.patch(f"{URL}/{template['id']}", headers=tenant.admin, json={
        "header_text": None, "accent_color": None, "email_subject": None,
        "terms": "Net 14 days.", "active": False})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["header_text"], body["accent_color"], body["email_subject"], body["terms"],
            body["active"], body["version"], patched.headers["etag"]) == (
        None, None, DEFAULT_EMAIL_SUBJECT, "Net 14 days.", False, 2, '"2"')
    assert await _read(client, tenant, template["id"]) == body
    assert (await client.delete(f"{URL}/{template['id']}", headers=tenant.admin)
            ).status_code == 204
    assert (await client.get(f"{URL}/{template['id']}", headers=tenant.admin)
            ).status_code == 404


async def test_a_template_without_e_mail_texts_has_the_standard_ones(client: AsyncClient,
                                                                     tenant: Tenant):
    template = await create_quote_template(client, tenant.admin, name="Plain")
    assert (template["email_subject"], template["email_message"]) == (
        "Quote {number} from {seller}", DEFAULT_EMAIL_MESSAGE)
    assert "{link}" in template["email_message"]
    assert "{valid_until}" in template["email_message"]
    assert (template["header_text"], template["accent_color"], template["active"]) == (
        None, None, True)


async def test_a_stored_template_without_e_mail_texts_reads_with_the_standard_ones(
        client: AsyncClient, tenant: Tenant):
    template_id = await sql(tenant.app, "INSERT INTO quote_templates (organization_id, name) "
                                        "VALUES (:org, 'Bare') RETURNING id",
                            org=tenant.organization_id)
    template = await _read(client, tenant, template_id)
    assert (template["email_subject"], template["email_message"]) == (
        DEFAULT_EMAIL_SUBJECT, DEFAULT_EMAIL_MESSAGE)


async def test_names_are_unique_whatever_their_case(client: AsyncClient, tenant: Tenant):
    first = await create_quote_template(client, tenant.admin, name="Standard")
    again = await client.post(URL, headers=tenant.admin, json={"name": "  sTANDARD "})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "name" in again.json()["detail"] and "sTANDARD" in again.json()["detail"]
    other = await create_quote_template(client, tenant.admin, name="Other")
    renamed = await client.patch(f"{URL}/{other['id']}", headers=tenant.admin,
                                 json={"name": "STANDARD"})
    assert renamed.status_code == 409
    assert "name" in renamed.json()["detail"]
    assert await _names(client, tenant) == ["Standard", "Other"]
    own_case = await client.patch(f"{URL}/{first['id']}", headers=tenant.admin,
                                  json={"name": "STANDARD"})
    assert own_case.status_code == 200, own_case.text
    assert own_case.json()["name"] == "STANDARD"


async def test_another_organization_may_use_the_same_name(client: AsyncClient,
                                                          tenant: Tenant,
                                                          other_tenant: Tenant):
    await create_quote_template(client, tenant.admin, name="Standard")
    assert (await create_quote_template(client, other_tenant.admin,
                                        name="standard"))["name"] == "standard"


@pytest.mark.parametrize("color", ["1F6FEB", "#1F6FE", "#12345678", "red", "#GGGGGG", ""])
async def test_an_accent_colour_other_than_rrggbb_is_422_and_writes_nothing(
        client: AsyncClient, tenant: Tenant, color: str):
    assert _fields(await client.post(URL, headers=tenant.admin, json={
        "name": "Coloured", "accent_color": color})) == ["accent_color"]
    assert await _names(client, tenant) == []
    template = await create_quote_template(client, tenant.admin, accent_color="#000000")
    assert _fields(await client.patch(f"{URL}/{template['id']}", headers=tenant.admin,
                                      json={"accent_color": color})) == ["accent_color"]
    assert await _read(client, tenant, template["id"]) == template


@pytest.mark.parametrize("field", ["email_subject", "email_message"])
async def test_an_unknown_placeholder_is_422_naming_the_field_and_the_known_ones(
        client: AsyncClient, tenant: Tenant, field: str):
    refused = await client.post(URL, headers=tenant.admin, json={
        "name": "Typo", field: "Quote {nummer} for {customer}"})
    assert _fields(refused) == [field]
    message = refused.json()["errors"][0]["message"]
    assert "{nummer}" in message
    assert all(p in message for p in ("{link}", "{number}", "{customer}", "{seller}",
                                      "{valid_until}"))
    assert await _names(client, tenant) == []
    template = await create_quote_template(client, tenant.admin)
    assert _fields(await client.patch(f"{URL}/{template['id']}", headers=tenant.admin,
                                      json={field: "{Link}"})) == [field]
    assert await _read(client, tenant, template["id"]) == template


async def test_plain_braces_in_the_e_mail_texts_are_accepted(client: AsyncClient,
                                                             tenant: Tenant):
    template = await create_quote_template(
        client, tenant.admin, email_subject="Quote {number} { draft }",
        email_message="Open {link} before {valid_until} :-{ {1}")
    assert template["email_message"] == "Open {link} before {valid_until} :-{ {1}"


@pytest.mark.parametrize(("field", "longest"), [
    ("name", 200), ("header_text", 10_000), ("footer_text", 10_000), ("terms", 10_000),
    ("email_subject", 500), ("email_message", 10_000)])
async def test_every_text_is_bounded(client: AsyncClient, tenant: Tenant, field: str,
                                     longest: int):
    assert _fields(await client.post(URL, headers=tenant.admin, json={
        "name": "Long", field: "x" * (longest + 1)})) == [field]
    assert await _names(client, tenant) == []
    template = await create_quote_template(client, tenant.admin, **{field: "x" * longest})
    assert len(template[field]) == longest


async def test_an_e_mail_subject_is_one_line_and_texts_are_not_blank(client: AsyncClient,
                                                                     tenant: Tenant):
    for body in ({"email_subject": "Quote\r\nBcc: all@x.test"}, {"email_subject": "  "},
                 {"email_message": " \n "}, {"name": "   "}):
        assert _fields(await client.post(URL, headers=tenant.admin,
                                         json={"name": "T", **body})) == [next(iter(body))]
    assert await _names(client, tenant) == []


async def test_null_is_refused_for_the_name_and_active(client: AsyncClient, tenant: Tenant):
    template = await create_quote_template(client, tenant.admin)
    for field in ("name", "active"):
        assert _fields(await client.patch(f"{URL}/{template['id']}", headers=tenant.admin,
                                          json={field: None})) == [field]
    assert await _read(client, tenant, template["id"]) == template


async def test_templates_filter_by_text_name_activity_and_id(client: AsyncClient,
                                                             tenant: Tenant):
    standard = await create_quote_template(client, tenant.admin, name="Standard offer")
    await create_quote_template(client, tenant.admin, name="Export offer",
                                terms="Prices ex works Oslo", active=False)
    last = await create_quote_template(client, tenant.admin, name="Service contract")
    assert await _names(client, tenant, name="%offer") == ["Standard offer", "Export offer"]
    assert await _names(client, tenant, name="standard%") == ["Standard offer"]
    assert await _names(client, tenant, q="OSLO") == ["Export offer"]
    assert await _names(client, tenant, q="contract") == ["Service contract"]
    assert await _names(client, tenant, active="false") == ["Export offer"]
    assert await _names(client, tenant, **{"id[gte]": standard["id"] + 1}) == [
        "Export offer", "Service contract"]
    assert await _names(client, tenant, **{"id[lte]": standard["id"]}) == ["Standard offer"]
    assert await _names(client, tenant, **{"id[ne]": last["id"]}) == [
        "Standard offer", "Export offer"]
    assert await _names(client, tenant, sort="name") == [
        "Export offer", "Service contract", "Standard offer"]
    refused = await client.get(URL, params={"colour": "red"}, headers=tenant.admin)
    assert refused.status_code == 422


async def test_templates_come_in_pages(client: AsyncClient, tenant: Tenant):
    for n in range(5):
        await create_quote_template(client, tenant.admin, name=f"T{n}")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = (await client.get(URL, headers=tenant.admin, params={
            "limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        assert len(page["data"]) <= 2
        seen += [t["name"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["T0", "T1", "T2", "T3", "T4"]


async def test_a_template_a_quote_was_made_with_cannot_be_deleted(client: AsyncClient,
                                                                  tenant: Tenant):
    template = await create_quote_template(client, tenant.admin)
    quote_id = await insert_quote(tenant, template["id"])
    refused = await client.delete(f"{URL}/{template['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "deactivate it instead" in refused.json()["detail"]
    assert await _read(client, tenant, template["id"]) == template
    deactivated = await client.patch(f"{URL}/{template['id']}", headers=tenant.admin,
                                     json={"active": False})
    assert deactivated.status_code == 200
    await delete_quote(tenant, quote_id)
    assert (await client.delete(f"{URL}/{template['id']}", headers=tenant.admin)
            ).status_code == 204


async def test_the_foreign_key_keeps_a_template_a_quote_came_to_use(client: AsyncClient,
                                                                     tenant: Tenant):
    """A quote made after the service looked (by a concurrent request) still keeps it."""
    template = await create_quote_template(client, tenant.admin)
    await insert_quote(tenant, template["id"])
    uow = UnitOfWork(tenant.app.state.salescore.sessions)
    with pytest.raises(Conflict, match="deactivate it instead"):
        async with uow:
            await uow.quote_templates.delete(tenant.organization_id, template["id"])
    assert await _read(client, tenant, template["id"]) == template


async def test_another_organizations_template_is_not_found(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    theirs = await create_quote_template(client, other_tenant.admin)
    url = f"{URL}/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert await _names(client, tenant) == []
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_sellers_read_templates_but_do_not_write_them(client: AsyncClient,
                                                            tenant: Tenant):
    template = await create_quote_template(client, tenant.admin, name="Visible")
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    assert (await client.get(f"{URL}/{template['id']}", headers=seller)).status_code == 200
    assert (await client.get(URL, headers=seller)).status_code == 200
    assert (await client.post(URL, json={"name": "X"}, headers=seller)).status_code == 403
    assert (await client.patch(f"{URL}/{template['id']}", json={"name": "X"},
                               headers=seller)).status_code == 403
    assert (await client.delete(f"{URL}/{template['id']}", headers=seller)).status_code == 403
    assert await _names(client, tenant) == ["Visible"]
    assert await _read(client, tenant, template["id"]) == template


async def test_managers_keep_templates(client: AsyncClient, tenant: Tenant):
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    template = await create_quote_template(client, manager, name="By a manager")
    assert (await client.patch(f"{URL}/{template['id']}", json={"terms": "Net 10"},
                               headers=manager)).status_code == 200
    assert (await client.delete(f"{URL}/{template['id']}", headers=manager)).status_code == 204


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant, method: str):
    template = await create_quote_template(client, tenant.admin)
    url = f"{URL}/{template['id']}"
    await client.patch(url, json={"name": "Renamed"}, headers=tenant.admin)
    current = await _read(client, tenant, template["id"])
    stale = tenant.admin | {"If-Match": '"1"'}
    response = await (client.patch(url, json={"name": "Lost"}, headers=stale)
                      if method == "patch" else client.delete(url, headers=stale))
    assert response.status_code == 412
    assert await _read(client, tenant, template["id"]) == current
    fresh = tenant.admin | {"If-Match": '"2"'}
    response = await (client.patch(url, json={"name": "Kept"}, headers=fresh)
                      if method == "patch" else client.delete(url, headers=fresh))
    assert response.status_code == (200 if method == "patch" else 204)


async def test_a_write_that_changes_nothing_keeps_the_version(client: AsyncClient,
                                                              tenant: Tenant):
    template = await create_quote_template(client, tenant.admin, accent_color="#ABCDEF",
                                           terms="Net 30")
    same = await client.patch(f"{URL}/{template['id']}", headers=tenant.admin, json={
        "accent_color": "#abcdef", "terms": "Net 30", "email_subject": None})
    assert same.status_code == 200, same.text
    assert same.json() == template
    assert [e["type"] for e in await read_events(client, tenant, EVENTS)] == [
        "quote_template.created"]


async def test_changes_to_a_template_show_in_the_change_feed(client: AsyncClient,
                                                             tenant: Tenant):
    template = await create_quote_template(client, tenant.key, name="Feed", terms="Net 30")
    await client.patch(f"{URL}/{template['id']}", headers=tenant.admin,
                       json={"terms": "Net 14", "accent_color": "#112233"})
    await client.delete(f"{URL}/{template['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, EVENTS)
    created = {"name": "Feed", "header_text": None, "footer_text": None, "terms": "Net 30",
               "accent_color": None, "email_subject": DEFAULT_EMAIL_SUBJECT,
               "email_message": DEFAULT_EMAIL_MESSAGE, "active": True}
    assert [(e["type"], e["aggregate_type"], e["aggregate_id"], e["data"])
            for e in events] == [
        ("quote_template.created", "quote_template", template["id"], created),
        ("quote_template.updated", "quote_template", template["id"], {"changes": {
            "terms": {"from": "Net 30", "to": "Net 14"},
            "accent_color": {"from": None, "to": "#112233"}}}),
        ("quote_template.deleted", "quote_template", template["id"],
         created | {"terms": "Net 14", "accent_color": "#112233"})]
    assert events[0]["actor"]["type"] == "api_key"
    assert events[1]["actor"] == {"type": "user", "id": tenant.admin_id}
