"""What every benchmark takes (`Options`) and gives back (`Report`), the machine it ran
on, where its JSON goes (bench/results/<name>.json, git-ignored), and the `Figure`s of
the summary (bench/summary.py)."""

import json
import operator
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Options:
    requests: int
    rounds: int
    concurrency: int
    seconds: int
    tool: str
    soak_minutes: float = 10.0


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    text: str
    data: dict[str, Any]
    failed: bool = False


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "executable": sys.executable,
    }


def machine_line(info: dict[str, Any]) -> str:
    return f"machine   {info['cores']} cores, {info['python']}, {info['system']}"


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the summary: its value, what it is compared with (`baseline`, and
    `ratio` = value / baseline unless the benchmark gives another), and a target on the
    value or the ratio ("ratio >= 0.6", "value < 50"; None: reported only) and whether it
    was met (None: no target, or nothing measured)."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None


def figure(name: str, value: float | None, unit: str, *, baseline: float | None = None,
           ratio: float | None = None, on: str = "value", op: str | None = None,
           limit: float | None = None) -> Figure:
    """A figure with its ratio worked out (value / baseline, unless given) and its target
    `on op limit` checked; a figure with nothing to check against has `met` None."""
    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    if op is None or limit is None:
        return Figure(name, value, unit, baseline, ratio)
    checked = ratio if on == "ratio" else value
    met = None if checked is None else _COMPARE[op](float(checked), float(limit))
    return Figure(name, value, unit, baseline, ratio, f"{on} {op} {limit:g}", met)
