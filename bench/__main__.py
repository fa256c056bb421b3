"""`python -m bench`: run the benchmarks, print each report, keep it in bench/results/,
and end with one table of every figure (bench/summary.py, also bench/results/summary.json).

A benchmark that crashes is reported (its traceback, a clean_run of 0) and the others still
run. `--opportunities N` seeds the benchmarks on the opportunities seed with N instead of
1,000,000 (a database of their own, bench/results/opportunities-db-N/): for a quick try
of the bench itself, not for figures."""

import argparse
import functools
import time
import traceback
from collections.abc import Callable
from typing import Protocol

from bench import (
    activities,
    exports,
    imports,
    leads,
    opportunities,
    platform_me,
    quotes,
    report_history,
    reports,
    seed,
    soak,
    summary,
    webhooks,
    writes,
)
from bench.report import Figure, Options, Report, machine, machine_line, write_json

BENCHMARKS: dict[str, Callable[[Options], Report]] = {platform_me.NAME: platform_me.run,
                                                     writes.NAME: writes.run,
                                                     opportunities.NAME: opportunities.run,
                                                     reports.NAME: reports.run,
                                                     activities.NAME: activities.run,
                                                     report_history.NAME: report_history.run,
                                                     quotes.NAME: quotes.run,
                                                     webhooks.NAME: webhooks.run,
                                                     imports.NAME: imports.run,
                                                     leads.NAME: leads.run,
                                                     exports.NAME: exports.run,
                                                     soak.NAME: soak.run}
# Long, and a test of staying up rather than of speed: run only when named.
ONLY_WHEN_NAMED = {soak.NAME}


class SeededRun(Protocol):
    def __call__(self, options: Options, *, spec: seed.Spec | None = None) -> Report: ...


# On the opportunities seed (bench/seed.py), whose size --opportunities sets.
SEEDED: dict[str, SeededRun] = {opportunities.NAME: opportunities.run,
                                reports.NAME: reports.run, activities.NAME: activities.run,
                                report_history.NAME: report_history.run,
                                exports.NAME: exports.run}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    root.add_argument("--requests", type=int, default=3000,
                      help="requests per endpoint per round with httpx (default 3000)")
    root.add_argument("--seconds", type=int, default=5,
                      help="seconds per endpoint per round with wrk (default 5)")
    root.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    root.add_argument("--concurrency", type=int, default=32,
                      help="connections kept busy (default 32)")
    root.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto",
                      help="load generator: wrk when installed (auto), or the one named")
    root.add_argument("--only", action="append", choices=sorted(BENCHMARKS),
                      help="run only this benchmark (repeatable); soak runs only when named")
    root.add_argument("--soak-minutes", type=float, default=10.0,
                      help="how long the soak runs (default 10)")
    root.add_argument("--opportunities", type=int, default=None,
                      help="opportunities of the seed (default 1,000,000): a smaller one "
                           "only to try the bench out")
    return root


def runner(name: str, opportunities_count: int | None) -> Callable[[Options], Report]:
    if opportunities_count is None or name not in SEEDED:
        return BENCHMARKS[name]
    return functools.partial(SEEDED[name], spec=seed.Spec(opportunities=opportunities_count))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = Options(requests=args.requests, rounds=args.rounds,
                      concurrency=args.concurrency, seconds=args.seconds, tool=args.tool,
                      soak_minutes=args.soak_minutes)
    info = machine()
    failed = False
    found: list[Figure] = []
    began = time.perf_counter()
    for name in args.only or [name for name in BENCHMARKS if name not in ONLY_WHEN_NAMED]:
        started = time.perf_counter()
        try:
            report = runner(name, args.opportunities)(options)
        except Exception:
            print(f"== {name} ==\nCRASHED after {time.perf_counter() - started:.0f} s\n"
                  f"{traceback.format_exc()}", flush=True)
            found.append(summary.clean_run(name, ok=False))
            failed = True
            continue
        path = write_json(name, {"benchmark": name, "machine": info, **report.data})
        print(f"== {name} ==\n{machine_line(info)}\n{report.text}\n\nwritten to {path}; "
              f"took {time.perf_counter() - started:.0f} s\n", flush=True)
        found += summary.figures_of(report)
        failed |= report.failed
    path = summary.write(found)
    print(f"== summary ==\n{machine_line(info)}\n{summary.table(found, info['cores'])}\n\n"
          f"written to {path}; the run took {time.perf_counter() - began:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
