"""What every benchmark takes (`Options`) and gives back (`Report`), the machine it ran
on, and where its JSON goes (bench/results/<name>.json, git-ignored)."""

import json
import os
import platform
import sys
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
