"""platform_me: what knowing the caller costs, and what the bare service costs.

A real server (see server.py) is timed from spawn to ready; an organization is made with
`salescore create-organization` and a JWT taken from POST /v1/auth/token. After a warm-up
the server's idle RSS is read. Then, over several rounds, the load generator (load.py)
drives GET /healthz (no credential, no database), GET /v1/me with the JWT and GET /v1/me
with the API key; the ratios of /v1/me's throughput to /healthz's show what the
credential check and the caller's lookup cost per request. The same ratios by the server's
CPU time per request are shown beside them: on a machine others use too, they move less."""

import time
from typing import Any

from bench.load import Summary, Target, choose_load, measure, warm_up
from bench.report import Options, Report
from bench.server import Server, running_server

NAME = "platform_me"
EMAIL, PASSWORD = "bench@bench.test", "benchpassword"
READY_TARGET_S = 5.0
RSS_TARGET_MB = 150.0
RATIO_TARGET = 0.7
SETTLE_SECONDS = 1.0
CLIENT_BOUND = 0.9


def targets(server: Server) -> list[Target]:
    org = server.create_organization("Bench", admin_email=EMAIL, admin_password=PASSWORD)
    token = server.token(email=EMAIL, password=PASSWORD, organization_id=org.organization_id)
    return [Target("healthz", "/healthz"),
            Target("me_jwt", "/v1/me", {"Authorization": f"Bearer {token}"}),
            Target("me_api_key", "/v1/me", {"Authorization": f"Bearer {org.api_key}"})]


def run(options: Options) -> Report:
    load = choose_load(options.tool, connections=options.concurrency,
                       requests=options.requests, seconds=options.seconds)
    with running_server() as server:
        chosen = targets(server)
        warm_up(load, server.base_url, chosen)
        time.sleep(SETTLE_SECONDS)
        idle_rss = server.rss_mb()
        summaries = measure(load, server.base_url, chosen, options.rounds,
                            server_pid=server.process.pid)
        loaded_rss = server.rss_mb()
    stopped = server.stopped
    assert stopped is not None
    by_name = {summary.name: summary for summary in summaries}
    base = by_name["healthz"].rps
    data: dict[str, Any] = {
        "tool": load.tool, "load": load.description, "rounds": options.rounds,
        "database": "embedded" if server.embedded_database else "SALESCORE_DATABASE_URL",
        "ready_seconds": server.ready_seconds, "idle_rss_mb": idle_rss,
        "rss_after_load_mb": loaded_rss,
        "endpoints": {summary.name: summary.as_dict() for summary in summaries},
        "ratios": {f"{name}/healthz": by_name[name].rps / base if base else 0.0
                   for name in ("me_jwt", "me_api_key")},
        "cpu_ratios": cpu_ratios(by_name),
        "targets": {"ready_seconds": READY_TARGET_S, "idle_rss_mb": RSS_TARGET_MB,
                    "ratio": RATIO_TARGET},
        "server_stop": {"exit_code": stopped.exit_code, "seconds": stopped.seconds,
                        "killed": stopped.killed,
                        "database_left_running": stopped.database_left_running,
                        "log_problems": list(stopped.log_problems)},
    }
    failed = (any(summary.errors for summary in summaries) or stopped.killed
              or stopped.exit_code != 0)
    return Report(name=NAME, text=render(data, summaries), data=data, failed=failed)


def cpu_per_request(summary: Summary) -> float | None:
    """Server CPU seconds per request: unlike req/s, hardly moved by other load on the
    machine taking the server's core now and then."""
    if summary.server_cpu is None or not summary.rps:
        return None
    return summary.server_cpu / summary.rps


def cpu_ratios(by_name: dict[str, Summary]) -> dict[str, float | None]:
    """healthz's server CPU per request over /v1/me's: the ratio req/s would have if the
    server had its core to itself."""
    base = cpu_per_request(by_name["healthz"])
    ratios: dict[str, float | None] = {}
    for name in ("me_jwt", "me_api_key"):
        cost = cpu_per_request(by_name[name])
        ratios[f"{name}/healthz"] = base / cost if base and cost else None
    return ratios


def percent(share: float | None) -> str:
    """A share of one core."""
    return "-" if share is None else f"{share:.0%}"


def micros(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.0f}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def render(data: dict[str, Any], summaries: list[Summary]) -> str:
    ready, idle = data["ready_seconds"], data["idle_rss_mb"]
    lines = [
        f"tool      {data['load']}, {data['rounds']} rounds, medians over rounds",
        f"database  {data['database']}",
        "",
        f"startup   spawn to first 200 from /readyz  {ready:8.2f} s   "
        f"(target < {READY_TARGET_S:g} s)    {verdict(ready < READY_TARGET_S)}",
        f"memory    idle RSS after warm-up          {idle:8.1f} MB  "
        f"(target < {RSS_TARGET_MB:g} MB)  {verdict(idle < RSS_TARGET_MB)}",
        f"          RSS after the load              {data['rss_after_load_mb']:8.1f} MB",
        "",
        f"{'endpoint':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}"
        f"{'server CPU':>12}{'client CPU':>12}{'CPU us/req':>12}",
    ]
    lines += [f"{s.name:<12}{s.rps:>9.0f}{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}"
              f"{s.requests:>10}{s.errors:>8}{percent(s.server_cpu):>12}"
              f"{percent(s.client_cpu):>12}{micros(cpu_per_request(s)):>12}" for s in summaries]
    bound = [s.name for s in summaries if s.client_cpu >= CLIENT_BOUND]
    if bound:
        lines.append(f"          the client used most of a core on {', '.join(bound)}: those "
                     "figures are the client's limit, not the server's")
    lines.append("")
    lines += [f"ratio {name:<20}{ratio:6.2f}  (target >= {RATIO_TARGET:g})  "
              f"{verdict(ratio >= RATIO_TARGET)}" for name, ratio in data["ratios"].items()]
    lines += [f"      {name:<20}{'-' if ratio is None else f'{ratio:.2f}':>6}  by server CPU per "
              "request" for name, ratio in data["cpu_ratios"].items()]
    stop = data["server_stop"]
    problems = stop["log_problems"]
    lines += ["", f"server    exit code {stop['exit_code']} {stop['seconds']:.2f} s after SIGINT"
              f"{' (killed)' if stop['killed'] else ''}"
              f"{', embedded PostgreSQL left running' if stop['database_left_running'] else ''}"
              f"; {len(problems)} warning/error lines in its log"]
    lines += [f"          {line}" for line in problems[:10]]
    return "\n".join(lines)
