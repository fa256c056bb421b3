"""Quotes through the API: drafts, sending, the public link, answers and their effects
(DOMAIN.md §6)."""

import asyncio
import hashlib
import json
import re
from datetime import timedelta
from email import message_from_bytes

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.api.quotes.test_quote_pdf import pdf_text
from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import World, create_opportunity, make_world, sql
from tests.quote_flow import add_line, make_draft, quote_world, send, token_of
from tests.report_factories import oslo_today


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await quote_world(app, tenant)


async def test_a_draft_freezes_the_lines_and_totals(client: AsyncClient, app: FastAPI,
                                                    tenant: Tenant, world: World):
    draft = await make_draft(client, app, tenant, world)
    assert draft["status"] == "draft" and draft["number"] is None
    assert [line["line_total"] for line in draft["lines"]] == ["2700.00", "299.97"]
    assert draft["lines_total"] == "2999.97" and draft["total"] == "2999.97"
    assert draft["lines"][0]["quantity"] == "2.500"
    await sql(app, "UPDATE opportunity_lines SET unit_price = 1 WHERE organization_id = :org",
              org=tenant.organization_id)
    again = (await client.get(f"/v1/quotes/{draft['id']}", headers=tenant.admin)).json()
    assert again["lines"] == draft["lines"] and again["total"] == "2999.97"


async def test_sending_numbers_the_quote_links_it_and_supersedes_the_others(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    first = await make_draft(client, app, tenant, world)
    opportunity = {"id": first["opportunity_id"]}
    second = await make_draft(client, app, tenant, world, opportunity=opportunity)
    sent = await send(client, tenant, first["id"])
    year = oslo_today().year
    assert sent["number"] == f"Q-{year}-0001" and sent["status"] == "sent"
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/q/[A-Za-z0-9_-]{43}", sent["public_url"])
    stored = await sql(app, "SELECT content FROM quotes WHERE id = :id", id=first["id"])
    document = {k: v for k, v in stored.items() if k != "accent_color"}
    expected = hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()
    assert sent["content_sha256"] == expected
    hashed = await sql(app, "SELECT token_hash FROM quotes WHERE id = :id", id=first["id"])
    assert hashed == hashlib.sha256(token_of(sent).encode()).hexdigest()
    assert "public_url" not in (await client.get(f"/v1/quotes/{first['id']}",
                                                 headers=tenant.admin)).json()
    later = await send(client, tenant, second["id"])
    assert later["number"] == f"Q-{year}-0002"
    superseded = (await client.get(f"/v1/quotes/{first['id']}", headers=tenant.admin)).json()
    assert superseded["status"] == "superseded"
    assert (await client.get(f"/v1/public/quotes/{token_of(sent)}")).status_code == 410
    types = [e["type"] for e in await read_events(client, tenant)]
    assert types.count("quote.sent") == 2 and "quote.superseded" in types


async def test_concurrent_sends_take_distinct_numbers_without_gaps(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    drafts = [await make_draft(client, app, tenant, world) for _ in range(6)]
    answers = await asyncio.gather(*(client.post(f"/v1/quotes/{d['id']}/send",
                                                 headers=tenant.admin) for d in drafts))
    assert {a.status_code for a in answers} == {200}
    numbers = sorted(int(a.json()["number"].rsplit("-", 1)[1]) for a in answers)
    assert numbers == [1, 2, 3, 4, 5, 6]


async def test_what_cannot_be_sent_or_changed(client: AsyncClient, app: FastAPI,
                                              tenant: Tenant, world: World):
    empty = await create_opportunity(client, tenant, world.customer_id)
    draft = await make_draft(client, app, tenant, world, opportunity=empty)
    refused = await client.post(f"/v1/quotes/{draft['id']}/send", headers=tenant.admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines"
    past = await client.post(f"/v1/opportunities/{empty['id']}/quotes", headers=tenant.admin,
                             json={"template_id": draft["template_id"],
                                   "valid_until": str(oslo_today() - timedelta(days=1))})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "valid_until"
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    for method, path in (("PATCH", ""), ("DELETE", ""), ("POST", "/send")):
        answer = await client.request(method, f"/v1/quotes/{sent['id']}{path}",
                                      headers=tenant.admin,
                                      json={"note": "x"} if method == "PATCH" else None)
        assert answer.status_code == 409, (method, path, answer.text)


async def test_a_draft_can_be_changed_and_deleted(client: AsyncClient, app: FastAPI,
                                                  tenant: Tenant, world: World):
    draft = await make_draft(client, app, tenant, world)
    path = f"/v1/quotes/{draft['id']}"
    changed = await client.patch(path, headers={**tenant.admin, "If-Match": '"1"'},
                                 json={"note": "Delivery in March"})
    assert changed.status_code == 200 and changed.json()["note"] == "Delivery in March"
    assert changed.headers["ETag"] == '"2"'
    stale = await client.patch(path, headers={**tenant.admin, "If-Match": '"1"'},
                               json={"note": "x"})
    assert stale.status_code == 412
    assert (await client.delete(path, headers=tenant.admin)).status_code == 204
    assert (await client.get(path, headers=tenant.admin)).status_code == 404


async def test_the_public_link_shows_the_quote_once_sent(client: AsyncClient, app: FastAPI,
                                                         tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    page = await client.get(f"/v1/public/quotes/{token_of(sent)}")
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == "2999.97" and body["lines"][0]["name"].startswith("Ærlig")
    assert "unit_cost" not in json.dumps(body) and "margin" not in json.dumps(body)
    assert page.headers["Cache-Control"] == "no-store"
    viewed = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert viewed["viewed_at"] is not None
    for token in ("A" * 43, "not-a-token", "x" * 99):
        unknown = await client.get(f"/v1/public/quotes/{token}")
        assert unknown.status_code == 404 and "detail" not in unknown.json()
    pdf = await client.get(f"/v1/public/quotes/{token_of(sent)}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_signing_moves_the_opportunity_keeps_the_pdf_and_tells_every_seller(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    opportunity = await create_opportunity(client, tenant, world.customer_id)
    partner = await make_user(client, tenant)
    await client.post(f"/v1/opportunities/{opportunity['id']}/sellers", headers=tenant.admin,
                      json={"user_id": partner["id"], "share": "50"})
    await add_line(app, tenant, opportunity["id"], "Service", "1", "500.00")
    sent = await send(client, tenant,
                      (await make_draft(client, app, tenant, world,
                                        opportunity=opportunity))["id"])
    signed = await client.post(f"/v1/public/quotes/{token_of(sent)}/sign",
                               json={"name": "Åse Ødegård", "email": "ase@kunde.test"},
                               headers={"User-Agent": "test-browser"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "signed"
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert (quote["signed_by_name"], quote["signature_method"]) == ("Åse Ødegård", "link")
    assert quote["signed_ip"] == "127.0.0.1"
    moved = (await client.get(f"/v1/opportunities/{opportunity['id']}",
                              headers=tenant.admin)).json()
    assert moved["stage_id"] == world.process.stages["Quote"] and moved["probability"] == "50.00"
    documents = (await client.get(f"/v1/opportunities/{opportunity['id']}/documents",
                                  headers=tenant.admin)).json()["data"]
    assert [d["kind"] for d in documents] == ["signed_quote"]
    content = await client.get(f"/v1/documents/{documents[0]['id']}/content",
                               headers=tenant.admin)
    assert content.content.startswith(b"%PDF") and len(content.content) == documents[0]["size"]
    assert hashlib.sha256(content.content).hexdigest() == documents[0]["sha256"]
    told = await sql(app, "SELECT array_agg(user_id ORDER BY user_id) FROM notifications "
                          "WHERE organization_id = :org AND type = 'quote_signed' "
                          "AND quote_id = :quote", org=tenant.organization_id, quote=sent["id"])
    assert told == sorted([tenant.admin_id, partner["id"]])
    again = await client.post(f"/v1/public/quotes/{token_of(sent)}/sign",
                              json={"name": "Someone", "email": "s@x.test"})
    assert again.status_code == 409
    types = [e["type"] for e in await read_events(client, tenant)]
    assert "quote.signed" in types


async def test_concurrent_answers_to_one_quote_leave_exactly_one(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    token = token_of(sent)
    calls = [client.post(f"/v1/public/quotes/{token}/sign",
                         json={"name": f"Signer {n}", "email": f"s{n}@x.test"})
             for n in range(4)]
    calls += [client.post(f"/v1/public/quotes/{token}/reject", json={"comment": "no"})
              for _ in range(4)]
    answers = await asyncio.gather(*calls)
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    answered = await sql(app, "SELECT count(*) FROM events WHERE organization_id = :org AND "
                              "type IN ('quote.signed', 'quote.rejected')",
                         org=tenant.organization_id)
    assert answered == 1


async def test_a_change_request_and_a_rejection_tell_the_sellers_and_leave_it_open(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    for path, kind in (("request-change", "quote_change_requested"),
                       ("reject", "quote_rejected")):
        sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
        answer = await client.post(f"/v1/public/quotes/{token_of(sent)}/{path}",
                                   json={"comment": "Cheaper, please", "name": "Per"})
        assert answer.status_code == 200, answer.text
        text = await sql(app, "SELECT text FROM notifications WHERE organization_id = :org "
                              "AND type = :kind AND quote_id = :quote",
                         org=tenant.organization_id, kind=kind, quote=sent["id"])
        assert text.endswith("Cheaper, please")
        quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
        assert quote["response_comment"] == "Cheaper, please"
        assert quote["signed_by_name"] is None
        opportunity = (await client.get(f"/v1/opportunities/{quote['opportunity_id']}",
                                        headers=tenant.admin)).json()
        assert opportunity["status"] == "open"
    missing = await client.post(f"/v1/public/quotes/{'B' * 43}/request-change", json={})
    assert missing.status_code == 422


async def test_a_quote_past_its_day_is_expired_everywhere(client: AsyncClient, app: FastAPI,
                                                          tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    await sql(app, "UPDATE quotes SET valid_until = :day WHERE id = :id",
              day=oslo_today() - timedelta(days=1), id=sent["id"])
    read = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert read["status"] == "expired"
    found = (await client.get("/v1/quotes", params={"status": "expired"},
                              headers=tenant.admin)).json()["data"]
    assert [q["id"] for q in found] == [sent["id"]]
    assert (await client.get("/v1/quotes", params={"status": "sent"},
                             headers=tenant.admin)).json()["data"] == []
    token = token_of(sent)
    assert (await client.get(f"/v1/public/quotes/{token}")).status_code == 410
    late = await client.post(f"/v1/public/quotes/{token}/sign",
                             json={"name": "Late", "email": "late@x.test"})
    assert late.status_code == 410


async def test_a_new_link_replaces_the_old_one(client: AsyncClient, app: FastAPI,
                                               tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    renewed = await client.post(f"/v1/quotes/{sent['id']}/link", headers=tenant.admin)
    assert renewed.status_code == 200, renewed.text
    assert (await client.get(f"/v1/public/quotes/{token_of(sent)}")).status_code == 404
    fresh = await client.get(f"/v1/public/quotes/{token_of(renewed.json())}")
    assert fresh.status_code == 200


async def test_sending_by_email_queues_the_message_and_logs_a_note(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    draft = await make_draft(client, app, tenant, world)
    sent = await send(client, tenant, draft["id"],
                      email={"to": ["kunde@bergen.test"], "cc": ["boss@bergen.test"]})
    emails = (await client.get(f"/v1/quotes/{sent['id']}/emails",
                               headers=tenant.admin)).json()["data"]
    assert [(e["to"], e["cc"], e["status"]) for e in emails] == [
        (["kunde@bergen.test"], ["boss@bergen.test"], "queued")]
    assert emails[0]["subject"].startswith(f"Quote {sent['number']} from ")
    raw = await sql(app, "SELECT message FROM quote_emails WHERE id = :id", id=emails[0]["id"])
    message = message_from_bytes(bytes(raw))
    parts = list(message.walk())
    text = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(
        decode=True).decode()
    assert sent["public_url"] in text
    pdf = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert pdf.get_payload(decode=True).startswith(b"%PDF")
    note = await sql(app, "SELECT subject FROM activities WHERE organization_id = :org AND "
                          "opportunity_id = :opp AND origin = 'quote_email'",
                     org=tenant.organization_id, opp=sent["opportunity_id"])
    assert note.startswith(f"Quote {sent['number']} e-mailed")


async def test_the_pdf_of_a_draft_and_of_a_sent_quote(client: AsyncClient, app: FastAPI,
                                                      tenant: Tenant, world: World):
    draft = await make_draft(client, app, tenant, world)
    pdf = await client.get(f"/v1/quotes/{draft['id']}/pdf", headers=tenant.admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "DRAFT" in pdf_text(pdf.content)
    sent = await send(client, tenant, draft["id"])
    final = await client.get(f"/v1/quotes/{sent['id']}/pdf", headers=tenant.admin)
    text = pdf_text(final.content)
    assert sent["number"] in text and "DRAFT" not in text
    assert final.headers["content-disposition"].endswith(f'{sent["number"]}.pdf"')


async def test_another_organizations_quote_is_not_found(client: AsyncClient, app: FastAPI,
                                                        tenant: Tenant, other_tenant: Tenant,
                                                        world: World):
    draft = await make_draft(client, app, tenant, world)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/send"),
                         ("GET", "/pdf"), ("GET", "/emails")):
        answer = await client.request(method, f"/v1/quotes/{draft['id']}{path}",
                                      headers=other_tenant.admin,
                                      json={"note": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path)
    create = await client.post(f"/v1/opportunities/{draft['opportunity_id']}/quotes",
                               headers=other_tenant.admin,
                               json={"template_id": draft["template_id"],
                                     "valid_until": str(oslo_today())})
    assert create.status_code == 404
    assert (await client.get("/v1/quotes", headers=other_tenant.admin)).json()["data"] == []


async def test_quotes_need_their_scopes(client: AsyncClient, app: FastAPI, tenant: Tenant,
                                        world: World):
    draft = await make_draft(client, app, tenant, world)
    made = await client.post("/v1/api-keys", headers=tenant.admin,
                             json={"name": "reader", "scopes": ["quotes:read"]})
    reader = {"Authorization": f"Bearer {made.json()['secret']}"}
    assert (await client.get(f"/v1/quotes/{draft['id']}", headers=reader)).status_code == 200
    assert (await client.post(f"/v1/quotes/{draft['id']}/send",
                              headers=reader)).status_code == 403


async def test_the_page_and_its_forms(client: AsyncClient, app: FastAPI, tenant: Tenant,
                                      world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    token = token_of(sent)
    page = await client.get(f"/q/{token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None and "Ærlig Østbø Åsen" in page.text
    forged = await client.post(f"/q/{token}/sign",
                               data={"name": "Eve", "email": "eve@x.test", "csrf": "0" * 32})
    assert forged.status_code == 403
    signed = await client.post(f"/q/{token}/sign", data={
        "name": "Kari Nordmann", "email": "kari@kunde.test", "csrf": csrf.group(1)})
    assert signed.status_code == 200 and "signed" in signed.text
    again = await client.post(f"/q/{token}/reject", data={"csrf": csrf.group(1)})
    assert again.status_code == 409 and "already been answered" in again.text
    assert (await client.get("/q/not-a-token")).status_code == 404


async def test_a_signature_onto_a_marked_won_stage_wins_the_opportunity(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    await sql(app, "UPDATE stages SET marks_quote_signed = true WHERE id = :id",
              id=world.process.stages["Won"])
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    signed = await client.post(f"/v1/public/quotes/{token_of(sent)}/sign",
                               json={"name": "Kari", "email": "kari@kunde.test"})
    assert signed.status_code == 200, signed.text
    won = (await client.get(f"/v1/opportunities/{sent['opportunity_id']}",
                            headers=tenant.admin)).json()
    assert (won["stage_id"], won["status"], won["probability"]) == (
        world.process.stages["Won"], "won", "100.00")
    assert won["closed_at"] is not None


async def test_only_the_first_open_of_the_link_sets_viewed_at(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    await client.get(f"/q/{token_of(sent)}")
    first = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    await client.get(f"/v1/public/quotes/{token_of(sent)}")
    again = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert first["viewed_at"] is not None and again["viewed_at"] == first["viewed_at"]
    viewed = [e for e in await read_events(client, tenant) if e["type"] == "quote.viewed"]
    assert len(viewed) == 1


async def test_the_customer_sees_the_seller_named_as_when_the_quote_was_made(
        client: AsyncClient, app: FastAPI, tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    frozen = (await client.get(f"/v1/public/quotes/{token_of(sent)}")).json()["seller_name"]
    await sql(app, "UPDATE organizations SET name = 'Renamed AS' WHERE id = :org",
              org=tenant.organization_id)
    assert (await client.get(f"/v1/public/quotes/{token_of(sent)}")).json()[
        "seller_name"] == frozen
    page = await client.get(f"/q/{token_of(sent)}")
    assert frozen in page.text and "Renamed AS" not in page.text
