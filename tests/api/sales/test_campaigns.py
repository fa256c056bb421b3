"""Campaigns: create, read, list, change, delete; periods, use by opportunities, tenants."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.customer_factories import delete_opportunity, insert_opportunity, make_campaign
from tests.factories import Tenant, make_user, read_events


async def _read(client: AsyncClient, tenant: Tenant, campaign_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/campaigns/{campaign_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await client.get("/v1/campaigns", params={"limit": 500, **params},
                                headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["data"]]


async def test_a_campaign_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                      tenant: Tenant):
    created = await client.post("/v1/campaigns", headers=tenant.admin, json={
        "name": "Spring fair", "starts_on": "2026-03-01", "ends_on": "2026-03-31"})
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert created.headers["location"] == f"/v1/campaigns/{campaign['id']}"
    assert created.headers["etag"] == '"1"'
    assert (campaign["starts_on"], campaign["ends_on"], campaign["active"]) == (
        "2026-03-01", "2026-03-31", True)
    assert await _read(client, tenant, campaign["id"]) == campaign
    patched = await client.patch(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin,
                                 json={"ends_on": None, "active": False})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["ends_on"], patched.json()["active"], patched.json()["version"]) == (
        None, False, 2)
    assert patched.headers["etag"] == '"2"'
    assert (await client.delete(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin)
            ).status_code == 204
    assert (await client.get(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin)
            ).status_code == 404


async def test_a_campaign_cannot_end_before_it_starts(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/campaigns", headers=tenant.admin, json={
        "name": "Backwards", "starts_on": "2026-05-02", "ends_on": "2026-05-01"})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "ends_on"
    assert await _names(client, tenant) == []
    campaign = await make_campaign(client, tenant, starts_on="2026-05-01",
                                   ends_on="2026-05-31")
    for change in ({"ends_on": "2026-04-30"}, {"starts_on": "2026-06-01"}):
        patched = await client.patch(f"/v1/campaigns/{campaign['id']}", json=change,
                                     headers=tenant.admin)
        assert patched.status_code == 422
        assert patched.json()["errors"][0]["field"] == "ends_on"
    assert await _read(client, tenant, campaign["id"]) == campaign
    one_day = await client.patch(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin,
                                 json={"starts_on": "2026-05-31"})
    assert one_day.status_code == 200


async def test_campaigns_filter_by_name_activity_and_dates(client: AsyncClient,
                                                           tenant: Tenant):
    await make_campaign(client, tenant, name="Spring fair", starts_on="2026-03-01",
                        ends_on="2026-03-31")
    await make_campaign(client, tenant, name="Summer mailing", starts_on="2026-06-01",
                        ends_on="2026-08-31", active=False)
    await make_campaign(client, tenant, name="Autumn fair", starts_on="2026-09-01")
    assert await _names(client, tenant, name="%fair") == ["Spring fair", "Autumn fair"]
    assert await _names(client, tenant, active="false") == ["Summer mailing"]
    assert await _names(client, tenant, **{"starts_on[gte]": "2026-06-01"}) == [
        "Summer mailing", "Autumn fair"]
    assert await _names(client, tenant, **{"ends_on[lte]": "2026-07-01"}) == ["Spring fair"]
    assert await _names(client, tenant, sort="-starts_on") == [
        "Autumn fair", "Summer mailing", "Spring fair"]


async def test_a_campaign_opportunities_came_from_cannot_be_deleted(client: AsyncClient,
                                                                     tenant: Tenant):
    campaign = await make_campaign(client, tenant)
    opportunity = await insert_opportunity(tenant, campaign_id=campaign["id"])
    refused = await client.delete(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert await _read(client, tenant, campaign["id"]) == campaign
    await delete_opportunity(tenant, opportunity)
    assert (await client.delete(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin)
            ).status_code == 204


async def test_another_organizations_campaign_is_not_found(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    theirs = await make_campaign(client, other_tenant)
    url = f"/v1/campaigns/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert await _names(client, tenant) == []
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_sellers_read_campaigns_but_do_not_write_them(client: AsyncClient,
                                                            tenant: Tenant):
    campaign = await make_campaign(client, tenant, name="Visible")
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    assert (await client.get(f"/v1/campaigns/{campaign['id']}", headers=seller)
            ).status_code == 200
    assert (await client.post("/v1/campaigns", json={"name": "X"}, headers=seller)
            ).status_code == 403
    assert (await client.patch(f"/v1/campaigns/{campaign['id']}", json={"name": "X"},
                               headers=seller)).status_code == 403
    assert (await client.delete(f"/v1/campaigns/{campaign['id']}", headers=seller)
            ).status_code == 403
    assert await _names(client, tenant) == ["Visible"]


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant, method: str):
    campaign = await make_campaign(client, tenant)
    await client.patch(f"/v1/campaigns/{campaign['id']}", json={"name": "Renamed"},
                       headers=tenant.admin)
    current = await _read(client, tenant, campaign["id"])
    stale = tenant.admin | {"If-Match": '"1"'}
    url = f"/v1/campaigns/{campaign['id']}"
    response = await (client.patch(url, json={"name": "Lost"}, headers=stale)
                      if method == "patch" else client.delete(url, headers=stale))
    assert response.status_code == 412
    assert await _read(client, tenant, campaign["id"]) == current


async def test_changes_to_a_campaign_show_in_the_change_feed(client: AsyncClient,
                                                             tenant: Tenant):
    campaign = await make_campaign(client, tenant, name="Feed", starts_on="2026-01-01")
    await client.patch(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin,
                       json={"ends_on": "2026-02-01"})
    await client.delete(f"/v1/campaigns/{campaign['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, "campaign.created,campaign.updated,"
                                               "campaign.deleted")
    assert [(e["type"], e["data"]) for e in events] == [
        ("campaign.created", {"name": "Feed", "starts_on": "2026-01-01", "ends_on": None,
                              "active": True}),
        ("campaign.updated", {"changes": {"ends_on": {"from": None, "to": "2026-02-01"}}}),
        ("campaign.deleted", {"name": "Feed", "starts_on": "2026-01-01",
                              "ends_on": "2026-02-01", "active": True})]
