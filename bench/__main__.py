"""`python -m bench`: run the benchmarks, print each report, keep it in bench/results/."""

import argparse
from collections.abc import Callable

from bench import activities, opportunities, platform_me, report_history, reports, soak
from bench.report import Options, Report, machine, machine_line, write_json

BENCHMARKS: dict[str, Callable[[Options], Report]] = {platform_me.NAME: platform_me.run,
                                                     opportunities.NAME: opportunities.run,
                                                     reports.NAME: reports.run,
                                                     activities.NAME: activities.run,
                                                     report_history.NAME: report_history.run,
                                                     soak.NAME: soak.run}
# Long, and a test of staying up rather than of speed: run only when named.
ONLY_WHEN_NAMED = {soak.NAME}


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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = Options(requests=args.requests, rounds=args.rounds,
                      concurrency=args.concurrency, seconds=args.seconds, tool=args.tool,
                      soak_minutes=args.soak_minutes)
    info = machine()
    failed = False
    for name in args.only or [name for name in BENCHMARKS if name not in ONLY_WHEN_NAMED]:
        report = BENCHMARKS[name](options)
        path = write_json(name, {"benchmark": name, "machine": info, **report.data})
        print(f"== {name} ==\n{machine_line(info)}\n{report.text}\n\nwritten to {path}\n",
              flush=True)
        failed |= report.failed
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
