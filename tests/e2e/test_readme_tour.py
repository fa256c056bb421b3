"""The README's tour, run as a reader would run it: its shell blocks, in order, in one bash,
against a real `salescore serve`, from a folder whose `.venv` is this test's. Every curl
fails on an error status (the reader would see the problem; the test stops on it), and
what the tour made is then read back through the API."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server_process import env_with, serving

README = Path(__file__).parents[2] / "README.md"
# The state the tour leaves, printed after its last block for the checks below.
REPORT = 'echo "TOUR-STATE $OPP $TOKEN"'
# curl that fails on an error status, saying what it sent and got (the tour captures most
# answers, so the body would otherwise vanish into a variable).
FAILING_CURL = """curl() { local body; body=$(command curl --fail-with-body "$@") \\
  || { echo "FAILED: curl $*: $body" >&2; return 1; }; printf '%s\\n' "$body"; }"""


def tour_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the README's "A tour" section, in order."""
    section = readme.split("\n## A tour\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)


def test_the_tour_section_has_every_step() -> None:
    """Each step the README promises is in one of its blocks."""
    tour = "\n".join(tour_blocks(README.read_text()))
    for step in ["create-organization", "/v1/auth/token", "/v1/customers", "/v1/opportunities ",
                 "/sellers", "/move", "/win", "/v1/reports/pipeline", "/v1/events",
                 "/quotes/$QUOTE/send", "/v1/webhook-endpoints", "salescore import"]:
        assert step in tour, step
    assert "8000" not in tour.replace("PORT=${PORT:-8000}", ""), "every address takes $PORT"


@pytest.mark.skipif(shutil.which("curl") is None,
                    reason="the tour needs curl (apt-get install curl)")
def test_the_readme_tour_runs_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    env = env_with(data_dir=str(data_dir))
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(Path(sys.executable).parents[1])
    script = "\n".join([FAILING_CURL, *tour_blocks(README.read_text()), REPORT])
    with serving(env) as (base, _):
        port = httpx.URL(base).port
        ran = subprocess.run(["bash", "-e", "-u", "-o", "pipefail", "-c", script],
                             cwd=folder, env={**env, "PORT": str(port)},
                             capture_output=True, text=True, timeout=180)
        assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
        opportunity_id, token = ran.stdout.rsplit("TOUR-STATE ", 1)[1].split()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=10) as api:
            opportunity = api.get(f"/v1/opportunities/{opportunity_id}").json()
            customers = api.get("/v1/customers", params={"external_id": "crm-1001"}).json()
            quotes = api.get(f"/v1/opportunities/{opportunity_id}/quotes").json()
            endpoints = api.get("/v1/webhook-endpoints").json()
    assert opportunity["status"] == "won"
    assert sorted(seller["share"] for seller in opportunity["sellers"]) == ["40.00", "60.00"]
    assert [quote["status"] for quote in quotes["data"]] == ["sent"]
    assert [customer["name"] for customer in customers["data"]] == ["Nordlys Bygg AS"]
    assert [endpoint["event_types"] for endpoint in endpoints["data"]] == [["opportunity.won"]]
    assert "/q/" in ran.stdout, "sending the quote printed the customer's link"
    assert '"status":"won"' in ran.stdout.replace(" ", "")
    assert os.path.exists(folder / "customers.csv")
