"""The committed spec is the app's, and documents every error as problem+json."""

import json
from pathlib import Path

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.cli import openapi_text
from salescore.settings import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_the_committed_spec_is_current():
    current = openapi_text(Settings(jwt_secret="unused"))
    assert COMMITTED.read_text() == current, "run `make openapi` and commit openapi.json"


def test_every_error_of_every_operation_is_a_problem(app: FastAPI):
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"422", "500"} <= set(responses), (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status[0] in "45":
                    pages = [["text/html"]] if path.startswith("/q/") else []
                    first, *more = response["content"]
                    assert first == "application/problem+json", (method, path, status)
                    assert more in [[], *pages], (method, path, status)


def test_reports_offer_only_the_files_they_make(app: FastAPI):
    """Every report answers JSON, CSV or xlsx; none offers a PDF (only the process list
    exports one)."""
    reports = {path: ops["get"] for path, ops in app.openapi()["paths"].items()
               if path.startswith("/v1/reports/")}
    assert len(reports) == 9
    for path, operation in reports.items():
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json", "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, path


async def test_the_served_spec_equals_the_committed_one(client: AsyncClient):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(COMMITTED.read_text())


async def test_swagger_ui_is_served(client: AsyncClient):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
