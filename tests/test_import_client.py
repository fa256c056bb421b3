"""The pure parts of `salescore import`: format, server URL, errors file, summary, codes."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from salescore.import_client import (
    Refused,
    errors_path,
    exit_code,
    format_of,
    problem_text,
    server_url,
    summary,
)


def _job(**changed: Any) -> dict[str, Any]:
    return {"id": 7, "resource": "customers", "mode": "per_row", "validate_only": False,
            "status": "succeeded", "rows_processed": 300, "rows_created": 200,
            "rows_updated": 50, "rows_unchanged": 40, "rows_failed": 10, **changed}


def test_the_format_comes_from_the_extension_unless_given():
    assert format_of(Path("a.CSV"), None) == "csv"
    assert format_of(Path("a.ndjson"), None) == format_of(Path("a.jsonl"), None) == "ndjson"
    assert format_of(Path("a.txt"), "csv") == "csv"
    with pytest.raises(Refused, match="--format"):
        format_of(Path("a.txt"), None)


def test_without_a_url_the_client_goes_where_serve_listens():
    assert server_url(None, host="127.0.0.1", port=8000) == "http://127.0.0.1:8000"
    assert server_url(None, host="0.0.0.0", port=9) == "http://127.0.0.1:9"
    assert server_url(None, host="::", port=9) == "http://[::1]:9"
    assert server_url("https://crm.example/", host="x", port=1) == "https://crm.example"


def test_the_failed_rows_go_beside_the_file():
    assert errors_path(Path("in/leads.ndjson")) == Path("in/leads.ndjson.errors.csv")


def test_the_summary_gives_the_counts_the_time_and_the_rate():
    assert summary(_job(), 2.0) == (
        "import 7 of customers (per_row) succeeded: 200 created, 50 updated, 40 unchanged, "
        "10 failed in 2.0 s (150 rows/s)")
    assert "validate only: nothing written" in summary(_job(validate_only=True), 1.0)


def test_only_a_success_without_failed_rows_exits_0():
    assert exit_code(_job(rows_failed=0)) == 0
    assert exit_code(_job()) == 1
    assert exit_code(_job(rows_failed=0, status="failed")) == 1
    assert exit_code(_job(rows_failed=0, status="cancelled")) == 1


def test_a_problem_reads_as_its_status_title_detail_and_fields():
    answer = httpx.Response(422, json={
        "title": "Unprocessable Content", "detail": "the request is invalid",
        "errors": [{"field": "mode", "message": "is not one of atomic, per_row"}]})
    assert problem_text(answer) == ("422 Unprocessable Content: the request is invalid\n"
                                    "  mode: is not one of atomic, per_row")
    assert problem_text(httpx.Response(502, text="<html>bad gateway</html>")) == (
        "502 Bad Gateway: <html>bad gateway</html>")
