"""Load generators and their statistics.

Both generators keep a fixed number of keep-alive HTTP/1.1 connections busy back to back
against one endpoint and give the same `Round`: requests, wall time, p50/p99 latency,
errors (an unexpected status or no answer) and the CPU the generator itself used, so that
a client-bound figure shows as such. `wrk` (one thread, for a fixed time) is used when
installed, since a Python client on a small machine takes CPU from the server; else httpx,
one worker coroutine per connection, for a fixed count. `measure` adds the server's CPU."""

import asyncio
import contextlib
import importlib.util
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx

# httpcore imports sniffio on every lock it makes; absent (anyio no longer needs it), each
# is a failed search of sys.path that costs the client ~30% of its throughput. None in
# sys.modules makes the import fail at once, and httpcore then assumes asyncio, as here.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Target:
    """One request to repeat, and the status every answer must have."""
    name: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: bytes = b""
    expect: int = 200


@dataclass(frozen=True, slots=True)
class Round:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu: float
    server_cpu: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok_rps(self) -> float:
        """Requests less errors, per second: a failure that came fast (a 409, a 404) adds
        nothing. (wrk counts failed connections apart from its requests: each of those
        takes one more off, so the figure errs low, never high.)"""
        good = max(0, self.requests - self.errors)
        return good / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    """One target over all rounds: medians of the per-round figures, totals of counts."""
    name: str
    rounds: tuple[Round, ...]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)

    @property
    def ok_rps(self) -> float:
        return statistics.median(r.ok_rps for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.rounds)

    @property
    def client_cpu(self) -> float:
        return statistics.median(r.client_cpu for r in self.rounds)

    @property
    def server_cpu(self) -> float | None:
        known = [r.server_cpu for r in self.rounds if r.server_cpu is not None]
        return statistics.median(known) if known else None

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rounds)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)

    def as_dict(self) -> dict[str, Any]:
        return {"rps": self.rps, "ok_rps": self.ok_rps, "p50_ms": self.p50_ms,
                "p99_ms": self.p99_ms, "requests": self.requests, "errors": self.errors,
                "client_cpu": self.client_cpu, "server_cpu": self.server_cpu,
                "rounds": [{"rps": r.rps, "requests": r.requests, "errors": r.errors,
                            "seconds": r.seconds, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
                            "client_cpu": r.client_cpu, "server_cpu": r.server_cpu}
                           for r in self.rounds]}


class LoadGenerator(Protocol):
    @property
    def tool(self) -> str: ...

    @property
    def description(self) -> str: ...

    def run(self, base_url: str, target: Target) -> Round: ...

    def shorter(self) -> "LoadGenerator":
        """The same generator for a warm-up: a fifth to a third of the run."""
        ...


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's finished (waited-for) children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile `q` (0-100) of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class HttpxLoad:
    """`connections` workers, each with its own one-connection AsyncClient: one client
    with a 32-connection pool costs ~3x the CPU per request, as httpcore scans the whole
    pool on every request."""
    connections: int
    requests: int
    timeout: float = 10.0
    deadline: float = 600.0

    tool = "httpx"

    @property
    def description(self) -> str:
        return (f"httpx {httpx.__version__} (HTTP/1.1, {self.connections} workers, one "
                f"keep-alive connection each, {self.requests} requests per run)")

    def shorter(self) -> "HttpxLoad":
        return replace(self, requests=max(self.connections * 10, self.requests // 5))

    def run(self, base_url: str, target: Target) -> Round:
        return asyncio.run(self._run(base_url, target))

    async def _run(self, base_url: str, target: Target) -> Round:
        latencies: list[float] = []
        errors = 0
        remaining = self.requests

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                try:
                    response = await client.request(target.method, target.path,
                                                    content=target.body or None)
                    ok = response.status_code == target.expect
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(httpx.AsyncClient(
                base_url=base_url, limits=one, timeout=self.timeout,
                headers=dict(target.headers), trust_env=False))
                for _ in range(self.connections)]
            cpu, began = time.process_time(), time.perf_counter()
            async with asyncio.timeout(self.deadline):
                await asyncio.gather(*(worker(client) for client in clients))
            seconds = time.perf_counter() - began
            cpu = time.process_time() - cpu
        latencies.sort()
        return Round(requests=len(latencies), errors=errors, seconds=seconds,
                     p50_ms=percentile(latencies, 50) * 1e3,
                     p99_ms=percentile(latencies, 99) * 1e3, client_cpu=cpu / seconds)


_WRK_SCRIPT = """
wrk.method = "{method}"
{body}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) unexpected = 0 end
function response(status, headers, body)
  if status ~= {expect} then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("unexpected") end
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.1f %.1f %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), wrong,
    e.connect + e.read + e.write + e.timeout))
end
"""
_WRK_RESULT = re.compile(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+) (\d+)$", re.MULTILINE)


def wrk_script(target: Target) -> str:
    body = target.body.decode()
    if "]==]" in body:
        raise ValueError("a body wrk cannot quote")
    return _WRK_SCRIPT.format(method=target.method, expect=target.expect,
                              body=f"wrk.body = [==[{body}]==]" if body else "")


@dataclass(frozen=True, slots=True)
class WrkLoad:
    executable: str
    connections: int
    seconds: int
    threads: int = 1

    tool = "wrk"

    @property
    def description(self) -> str:
        version = subprocess.run([self.executable, "-v"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout.split("[")[0].strip()
        return (f"{version} ({self.threads} thread, {self.connections} connections, "
                f"{self.seconds} s per run)")

    def shorter(self) -> "WrkLoad":
        return replace(self, seconds=max(1, self.seconds // 3))

    def run(self, base_url: str, target: Target) -> Round:
        with tempfile.TemporaryDirectory(prefix="bench-wrk-") as scratch:
            script = Path(scratch) / "target.lua"
            script.write_text(wrk_script(target))
            command = [self.executable, f"-t{self.threads}", f"-c{self.connections}",
                       f"-d{self.seconds}s", "--timeout", "5s", "-s", str(script)]
            for name, value in target.headers.items():
                command += ["-H", f"{name}: {value}"]
            cpu = children_cpu_seconds()
            done = subprocess.run([*command, base_url + target.path], capture_output=True,
                                  text=True, timeout=self.seconds + 30, check=True)
            cpu = children_cpu_seconds() - cpu
        found = _WRK_RESULT.search(done.stdout)
        if found is None:
            raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
        requests, micros, p50, p99, wrong, socket_errors = found.groups()
        seconds = int(micros) / 1e6
        return Round(requests=int(requests), errors=int(wrong) + int(socket_errors),
                     seconds=seconds, p50_ms=float(p50) / 1e3, p99_ms=float(p99) / 1e3,
                     client_cpu=cpu / seconds if seconds > 0 else 0.0)


def choose_load(tool: str, *, connections: int, requests: int, seconds: int) -> LoadGenerator:
    """`wrk` if asked for, or if `auto` and it is installed; else httpx."""
    found = shutil.which("wrk")
    if tool == "wrk" and found is None:
        raise FileNotFoundError("wrk is not installed (apt-get install wrk)")
    if tool in ("wrk", "auto") and found is not None:
        return WrkLoad(executable=found, connections=connections, seconds=seconds)
    return HttpxLoad(connections=connections, requests=requests)


def warm_up(load: LoadGenerator, base_url: str, targets: Sequence[Target]) -> None:
    """One short run per target: connections, pools and caches filled, nothing kept."""
    short = load.shorter()
    for target in targets:
        short.run(base_url, target)


def measure(load: LoadGenerator, base_url: str, targets: Sequence[Target], rounds: int, *,
            server_pid: int | None = None) -> list[Summary]:
    """`rounds` rounds, each running every target once (the order rotated per round so
    that none always follows the same one); with `server_pid`, the server's CPU too."""
    runs: dict[str, list[Round]] = {target.name: [] for target in targets}
    for number in range(rounds):
        shift = number % len(targets)
        for target in [*targets[shift:], *targets[:shift]]:
            cpu = process_cpu_seconds(server_pid) if server_pid else 0.0
            done = load.run(base_url, target)
            if server_pid:
                used = process_cpu_seconds(server_pid) - cpu
                done = replace(done, server_cpu=used / done.seconds if done.seconds else 0.0)
            runs[target.name].append(done)
    return [Summary(name=name, rounds=tuple(done)) for name, done in runs.items()]
