"""The organization's settings, read by everyone and written by admins and managers."""

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events

DEFAULTS = {"base_currency": "NOK", "time_zone": "Europe/Oslo",
            "loss_reason_required": False, "reminder_task_enabled": True,
            "reminder_task_days": 1, "stagnant_days": 30}


async def test_settings_show_currency_time_zone_and_an_optional_loss_reason(
        client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/settings", headers=tenant.admin)
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS


@pytest.mark.parametrize("role", ["admin", "manager"])
async def test_admins_and_managers_make_a_loss_reason_required(client: AsyncClient,
                                                               tenant: Tenant, role: str):
    user = tenant.token_for((await make_user(client, tenant, role=role))["id"])
    response = await client.patch("/v1/settings", json={"loss_reason_required": True},
                                  headers=user)
    assert response.status_code == 200, response.text
    assert response.json()["loss_reason_required"] is True
    assert (await client.get("/v1/settings", headers=tenant.key)).json()[
        "loss_reason_required"] is True


async def test_a_seller_reads_the_settings_but_cannot_change_them(client: AsyncClient,
                                                                  tenant: Tenant):
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    assert (await client.get("/v1/settings", headers=seller)).status_code == 200
    refused = await client.patch("/v1/settings", json={"loss_reason_required": True},
                                 headers=seller)
    assert refused.status_code == 403
    assert (await client.get("/v1/settings", headers=tenant.admin)).json()[
        "loss_reason_required"] is False


@pytest.mark.parametrize(("field", "value"), [("base_currency", "XYZ"),
                                              ("time_zone", "Europe/Atlantis"),
                                              ("reminder_task_days", -1),
                                              ("stagnant_days", 0),
                                              ("loss_reason_required", None),
                                              ("loss_reason_required", "maybe")])
async def test_bad_settings_are_refused_naming_the_field(
        client: AsyncClient, tenant: Tenant, field: str, value: object):
    response = await client.patch("/v1/settings", headers=tenant.admin,
                                  json={field: value, "loss_reason_required": True}
                                  if field != "loss_reason_required" else {field: value})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert (await client.get("/v1/settings", headers=tenant.admin)).json() == DEFAULTS


async def test_every_setting_can_be_changed(client: AsyncClient, tenant: Tenant):
    wanted = {"base_currency": "SEK", "time_zone": "Europe/Stockholm",
              "loss_reason_required": True, "reminder_task_enabled": False,
              "reminder_task_days": 3, "stagnant_days": 14}
    response = await client.patch("/v1/settings", headers=tenant.admin, json=wanted)
    assert response.status_code == 200, response.text
    assert (await client.get("/v1/settings", headers=tenant.key)).json() == wanted


async def test_a_change_of_settings_is_one_organization_event(client: AsyncClient,
                                                              tenant: Tenant,
                                                              other_tenant: Tenant):
    for value in (True, True, False):
        await client.patch("/v1/settings", json={"loss_reason_required": value},
                           headers=tenant.admin)
    events = await read_events(client, tenant, "organization.settings_changed")
    assert [(e["aggregate_type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("organization", tenant.organization_id,
         {"changes": {"loss_reason_required": {"from": False, "to": True}}}),
        ("organization", tenant.organization_id,
         {"changes": {"loss_reason_required": {"from": True, "to": False}}})]
    assert (await client.get("/v1/settings", headers=other_tenant.admin)).json()[
        "loss_reason_required"] is False
