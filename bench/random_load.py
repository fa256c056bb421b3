"""Load with a different request each time: `{name}` in a path or body becomes a random
integer of the range given for it, drawn anew per request (random ids, owners, customers),
or, for a name in `counters`, the next integer from the one given (each request its own:
ids of a pool of records each to be changed once, as winning an opportunity can be).

The same two generators as load.py, giving the same `Round`: wrk with bench/lua/random.lua
(one thread, for a fixed time), else httpx (one coroutine per connection, for a fixed
count). Each `Pattern` names its own number of connections, so that a latency figure can
be taken without queueing (one connection) and a throughput figure under load."""

import asyncio
import contextlib
import itertools
import random
import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import httpx

from bench.load import (
    Round,
    Summary,
    WrkLoad,
    children_cpu_seconds,
    choose_load,
    percentile,
    process_cpu_seconds,
)

LUA = Path(__file__).resolve().parent / "lua" / "random.lua"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_WRK_RESULT = re.compile(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+) (\d+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str
    base_url: str
    path: str
    ranges: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str = ""
    expect: int = 200
    connections: int = 1
    server_pid: int | None = None
    counters: Mapping[str, int] = field(default_factory=dict)

    def fill(self, template: str, rng: random.Random,
             counted: Mapping[str, Iterator[int]] | None = None) -> str:
        """`template` with its holes filled; `counted` gives the next value of each name
        in `counters` (shared by every request of a run)."""
        def draw(found: re.Match[str]) -> str:
            if counted is not None and found[1] in counted:
                return str(next(counted[found[1]]))
            bounds = self.ranges.get(found[1])
            return found[0] if bounds is None else str(rng.randint(*bounds))
        return _PLACEHOLDER.sub(draw, template)

    def advanced(self, done: Round) -> "Pattern":
        """The pattern with its counters past every value the run `done` may have used:
        one per request answered or failed, and one more per connection for a request
        still in flight when the run ended."""
        used = done.requests + done.errors + self.connections
        return replace(self, counters={k: v + used for k, v in self.counters.items()})


class RandomLoad(Protocol):
    @property
    def description(self) -> str: ...

    def run(self, pattern: Pattern) -> Round: ...

    def shorter(self) -> "RandomLoad": ...


@dataclass(frozen=True, slots=True)
class WrkRandom:
    executable: str
    seconds: int
    threads: int = 1

    def shorter(self) -> "WrkRandom":
        return replace(self, seconds=max(1, self.seconds // 3))

    @property
    def description(self) -> str:
        version = subprocess.run([self.executable, "-v"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout.split("[")[0].strip()
        return f"{version} with bench/lua/random.lua ({self.threads} thread, " \
               f"{self.seconds} s per run)"

    def run(self, pattern: Pattern) -> Round:
        if pattern.counters and self.threads != 1:
            raise ValueError("counters need one wrk thread: each thread counts for itself")
        command = [self.executable, f"-t{self.threads}", f"-c{pattern.connections}",
                   f"-d{self.seconds}s", "--timeout", "5s", "-s", str(LUA)]
        for name, value in pattern.headers.items():
            command += ["-H", f"{name}: {value}"]
        command += [pattern.base_url + "/", "--", pattern.method, str(pattern.expect),
                    pattern.path, pattern.body, str(random.randrange(1, 2**31))]
        command += [f"{name}={lo}:{hi}" for name, (lo, hi) in pattern.ranges.items()]
        command += [f"{name}={first}+" for name, first in pattern.counters.items()]
        cpu = children_cpu_seconds()
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=self.seconds + 30, check=True)
        cpu = children_cpu_seconds() - cpu
        found = _WRK_RESULT.search(done.stdout)
        if found is None:
            raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
        requests, micros, p50, p99, wrong, socket_errors = found.groups()
        seconds = int(micros) / 1e6
        return Round(requests=int(requests), errors=int(wrong) + int(socket_errors),
                     seconds=seconds, p50_ms=float(p50) / 1e3, p99_ms=float(p99) / 1e3,
                     client_cpu=cpu / seconds if seconds > 0 else 0.0)


@dataclass(frozen=True, slots=True)
class HttpxRandom:
    """For a fixed time, as wrk: a fixed count would take minutes on a slow search."""
    seconds: int
    timeout: float = 10.0

    def shorter(self) -> "HttpxRandom":
        return replace(self, seconds=max(1, self.seconds // 3))

    @property
    def description(self) -> str:
        return (f"httpx {httpx.__version__} (HTTP/1.1, one keep-alive connection per "
                f"worker, {self.seconds} s per run)")

    def run(self, pattern: Pattern) -> Round:
        return asyncio.run(self._run(pattern))

    async def _run(self, pattern: Pattern) -> Round:
        latencies: list[float] = []
        errors = 0
        rng = random.Random()
        counted = {name: itertools.count(first) for name, first in pattern.counters.items()}
        end = 0.0

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal errors
            while time.perf_counter() < end:
                path = pattern.fill(pattern.path, rng, counted)
                body = (pattern.fill(pattern.body, rng, counted).encode() if pattern.body
                        else None)
                began = time.perf_counter()
                try:
                    response = await client.request(pattern.method, path, content=body)
                    ok = response.status_code == pattern.expect
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(httpx.AsyncClient(
                base_url=pattern.base_url, limits=one, timeout=self.timeout,
                headers=dict(pattern.headers), trust_env=False))
                for _ in range(pattern.connections)]
            cpu, began = time.process_time(), time.perf_counter()
            end = began + self.seconds
            async with asyncio.timeout(self.seconds + 2 * self.timeout):
                await asyncio.gather(*(worker(client) for client in clients))
            seconds = time.perf_counter() - began
            cpu = time.process_time() - cpu
        latencies.sort()
        return Round(requests=len(latencies), errors=errors, seconds=seconds,
                     p50_ms=percentile(latencies, 50) * 1e3,
                     p99_ms=percentile(latencies, 99) * 1e3, client_cpu=cpu / seconds)


def choose(tool: str, *, seconds: int) -> RandomLoad:
    """wrk when asked for or (`auto`) installed, else httpx; both for `seconds` a run."""
    chosen = choose_load(tool, connections=1, requests=1, seconds=seconds)
    if isinstance(chosen, WrkLoad):
        return WrkRandom(executable=chosen.executable, seconds=seconds)
    return HttpxRandom(seconds=seconds)


def measure(load: RandomLoad, patterns: Sequence[Pattern], rounds: int) -> list[Summary]:
    """A warm-up run of each, then `rounds` rounds each running every pattern once, the
    order rotated per round; with a pattern's `server_pid`, that server's CPU too. A
    pattern's counters go on from run to run."""
    current = {p.name: p.advanced(load.shorter().run(p)) for p in patterns}
    names = list(current)
    runs: dict[str, list[Round]] = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        for name in [*names[shift:], *names[:shift]]:
            pattern = current[name]
            pid = pattern.server_pid
            cpu = process_cpu_seconds(pid) if pid else 0.0
            done = load.run(pattern)
            current[name] = pattern.advanced(done)
            if pid:
                used = process_cpu_seconds(pid) - cpu
                done = replace(done, server_cpu=used / done.seconds if done.seconds else 0.0)
            runs[name].append(done)
    return [Summary(name=name, rounds=tuple(done)) for name, done in runs.items()]
