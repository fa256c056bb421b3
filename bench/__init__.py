"""Benchmarks of a real `salescore serve` process: `python -m bench` (or `make bench`).

Each benchmark module has a `NAME` and a `run(options) -> Report`; `__main__` runs the
selected ones, prints their reports and keeps them as JSON in bench/results/."""
