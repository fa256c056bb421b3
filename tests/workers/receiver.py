"""A webhook receiver on 127.0.0.1 for the tests: a tiny ASGI app under uvicorn, in a
thread of its own (so that both async tests and tests driving real processes can use it),
that verifies every message with standardwebhooks' `Webhook.verify` against the secrets
expected for its path, and answers as the test says."""

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook


@dataclass(frozen=True, slots=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[str, ...]  # the expected secrets whose signature is in the message
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


Respond = Callable[[Received], Answer | Awaitable[Answer]]


class Receiver:
    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._secrets: dict[str, tuple[str, ...]] = {}
        self._respond: dict[str, Respond] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def expect(self, path: str, secrets: tuple[str, ...] | list[str],
               respond: Respond | None = None) -> str:
        """Messages to `path` are verified with `secrets` and answered by `respond` (200
        by default); the URL of `path`."""
        with self._lock:
            self._secrets[path] = tuple(secrets)
            if respond is not None:
                self._respond[path] = respond
        return self.url(path)

    def answer_with(self, path: str, respond: Respond) -> None:
        with self._lock:
            self._respond[path] = respond

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30) -> list[Received]:
        """Blocks (a thread's sleep) until `count` messages came; for sync tests."""
        deadline = time.monotonic() + timeout
        while len(found := self.received(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} messages came in {timeout} s")
            time.sleep(0.02)
        return found

    async def arrived(self, count: int, path: str | None = None,
                      within: float = 30) -> list[Received]:
        """Waits (asynchronously) until `count` messages came."""
        deadline = time.monotonic() + within
        while len(found := self.received(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} messages came in {within} s")
            await asyncio.sleep(0.02)
        return found

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        with self._lock:
            secrets = self._secrets.get(path, ())
            respond = self._respond.get(path)
        received = Received(path, headers, body, tuple(s for s in secrets
                                                       if _verifies(s, body, headers)),
                            time.monotonic())
        with self._lock:
            self._received.append(received)
        answer = Answer()
        if respond is not None:
            made = respond(received)
            answer = await made if inspect.isawaitable(made) else made
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items()]})
        await send({"type": "http.response.body", "body": answer.body})

    def start(self) -> None:
        config = uvicorn.Config(self._app, interface="asgi3", lifespan="off", log_level="warning",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise AssertionError("the receiver did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except Exception:
        return False
    return True


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def held_until(release: threading.Event, answer: Answer | None = None,
               entered: threading.Event | None = None) -> Respond:
    """A responder that holds each request until `release` is set (`entered` is set when
    one is being held), then answers."""

    async def respond(_: Received) -> Answer:
        if entered is not None:
            entered.set()
        while not release.is_set():  # noqa: ASYNC110 (set by another thread)
            await asyncio.sleep(0.02)
        return answer or Answer()

    return respond
