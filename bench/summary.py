"""The one table `python -m bench` ends with: every figure of every benchmark that ran
(name, value, unit, baseline, ratio, target, met), the machine's cores, and the targets
missed; the same list is written to bench/results/summary.json.

A benchmark's figures come from its Report data: its own `figures` list when it makes one
(opportunities, writes), else what `EXTRACTORS` reads from the data it has always given
(platform_me, reports, activities, report_history, soak). Each benchmark also gets a
`<name>.clean_run` row: 1 when it ran through without errors (no failed request, the
server stopped cleanly, its own checks held), 0 when not or when it crashed."""

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.report import RESULTS, Figure, Report, figure

Data = dict[str, Any]


def _platform_me(data: Data) -> list[Figure]:
    targets, endpoints = data["targets"], data["endpoints"]
    healthz = endpoints["healthz"]["rps"]
    return [
        figure("platform_me.ready", data["ready_seconds"], "s", op="<",
               limit=targets["ready_seconds"]),
        figure("platform_me.idle_rss", data["idle_rss_mb"], "MB", op="<",
               limit=targets["idle_rss_mb"]),
        *(figure(f"platform_me.{name}", endpoints[name]["rps"], "req/s", baseline=healthz,
                 on="ratio", op=">=", limit=targets["ratio"])
          for name in ("me_jwt", "me_api_key")),
    ]


def _reports(data: Data) -> list[Figure]:
    found = []
    for group_by, case in data["cases"].items():
        label = group_by.replace(",", "+")
        p50, ratio = case["checks"]["p50_ms"], case["checks"]["ratio"]
        op, limit = p50["target"].split()
        found.append(figure(f"reports.pipeline[{label}].p50", case["api_p50_ms"], "ms",
                            op=op, limit=float(limit)))
        op, limit = ratio["target"].split()
        found.append(figure(f"reports.pipeline[{label}].p50_vs_sql", case["api_p50_ms"],
                            "ms", baseline=case["sql_p50_ms"], on="ratio", op=op,
                            limit=float(limit)))
    return found


def _activities(data: Data) -> list[Figure]:
    endpoints, checks = data["endpoints"], data["checks"]
    calendar, cost = checks["calendar_p99_ms"], checks["follow_up_cost_ratio"]
    op, limit = calendar["target"].split()
    found = [figure("activities.calendar_month_p99", endpoints["calendar_month"]["p99_ms"],
                    "ms", op=op, limit=float(limit))]
    found += [figure(f"activities.{name}", endpoints[name]["rps"], "req/s")
              for name in ("create_without_follow_up", "create_with_follow_up")]
    op, limit = cost["target"].split()
    found.append(figure("activities.follow_up_cost", cost["value"], "x", op=op,
                        limit=float(limit)))
    return found


def _report_history(data: Data) -> list[Figure]:
    return [figure(f"report_history.{kind}_p50", found["p50_s"], "s", op="<",
                   limit=data["targets"][kind]["p50_s"])
            for kind, found in data["endpoints"].items()]


def _soak(data: Data) -> list[Figure]:
    found = [figure(f"soak.{name}", float(len(data[key]) if isinstance(data[key], list)
                                          else data[key]), "count", op="==", limit=0)
             for name, key in (("failures_while_up", "failures_outside_down"),
                               ("acknowledged_creates_missing", "created_missing_count"),
                               ("events_not_matching_version", "event_count_mismatch_count"),
                               ("feed_events_missed", "follower_missed_count"))]
    found += [figure(f"soak.rss_growth[{process}]", rss["growth"] * 100, "%", op="<", limit=10)
              for process, rss in data["rss"].items()]
    found.append(figure("soak.requests", data["requests"], "count"))
    return found


EXTRACTORS: dict[str, Callable[[Data], list[Figure]]] = {
    "platform_me": _platform_me, "reports": _reports, "activities": _activities,
    "report_history": _report_history, "soak": _soak}


def figures_of(report: Report) -> list[Figure]:
    """The report's figures, then its clean_run row."""
    own = report.data.get("figures")
    if own is not None:
        found = [Figure(**f) for f in own]
    else:
        extract = EXTRACTORS.get(report.name)
        found = extract(report.data) if extract else []
    return [*found, clean_run(report.name, ok=not report.failed)]


def clean_run(name: str, *, ok: bool) -> Figure:
    return figure(f"{name}.clean_run", 1.0 if ok else 0.0, "bool", op="==", limit=1)


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _verdict(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "MISSED"


def checked(found: Figure) -> float | None:
    """The number a figure's target is on."""
    on_ratio = found.target is not None and found.target.startswith("ratio")
    return found.ratio if on_ratio else found.value


def table(found: Sequence[Figure], cores: int | None) -> str:
    """Every figure in a row, the missed targets listed after."""
    width = max([len("name"), *(len(f.name) for f in found)])
    lines = [f"summary   {cores} cores; value and baseline are medians over rounds; ratio = "
             "value / baseline",
             "",
             f"{'name':<{width}}  {'value':>10} {'unit':<6} {'baseline':>10} {'ratio':>7}"
             f"  {'target':<14} met"]
    for f in found:
        lines.append(f"{f.name:<{width}}  {_number(f.value):>10} {f.unit:<6} "
                     f"{_number(f.baseline):>10} {_number(f.ratio):>7}  "
                     f"{f.target or '-':<14} {_verdict(f.met)}")
    missed = [f for f in found if f.met is False]
    lines.append("")
    if missed:
        lines.append(f"targets missed ({len(missed)} of "
                     f"{sum(f.met is not None for f in found)}):")
        lines += [f"  {f.name}: {_number(checked(f))} (target {f.target})" for f in missed]
    else:
        lines.append(f"every target met ({sum(f.met is not None for f in found)})")
    return "\n".join(lines)


def write(found: Sequence[Figure]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "summary.json"
    path.write_text(json.dumps([asdict(f) for f in found], indent=2) + "\n")
    return path
