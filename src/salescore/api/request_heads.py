"""The HTTP/1.1 protocol `salescore serve` runs: uvicorn's httptools one (what
uvicorn[standard] picks), with hard limits on a request's head that answer problem+json.

Left alone, uvicorn with httptools cannot parse a request target over 65,535 bytes (the
limit of httptools' URL parser) and answers it with a bare `text/plain` 400, "Invalid HTTP
request received."; and it holds whatever header block a client sends, however long, in
memory until the block ends. Here a target longer than `HARD_MAX_URL_BYTES` is answered
414, and a head still unfinished past `HARD_MAX_HEAD_BYTES` 431, both problem+json;
nothing of either reaches the app. The connection is then closed the way that lets the
client read the answer: the server stops writing, reads and drops what the client is still
sending (up to `LINGER_BYTES`, for up to `LINGER_SECONDS`), and closes when the client
does; closed at once, it would reset the connection over the unread rest, and the client
would lose the answer. Below the hard limits, the app refuses what passes its own, lower
ones (`SALESCORE_MAX_URL_BYTES`, `SALESCORE_MAX_HEADER_BYTES`: middleware.RequestContext)."""

from typing import Final

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from salescore.api.errors import PROBLEM, problem
from salescore.api.middleware import HEADERS_TOO_LARGE, URL_TOO_LONG

HARD_MAX_URL_BYTES: Final = 65_535
HARD_MAX_HEAD_BYTES: Final = 131_072
LINGER_BYTES: Final = 1_048_576
LINGER_SECONDS: Final = 2.0


class RequestHeads(HttpToolsProtocol):
    """uvicorn's protocol, refusing a request head over the hard limits (the module's)."""

    _in_head = True  # between the end of one request and the end of the next one's head
    _head_bytes = 0  # received of the current head (at most one read short of it)
    _refusal: int | None = None
    _answered = False
    _dropped = 0

    def data_received(self, data: bytes) -> None:
        if self._answered:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._refusal is None and self._in_head and self._head_bytes > HARD_MAX_HEAD_BYTES:
            self._refusal = 431
        if self._refusal is not None and not self.transport.is_closing():
            self._refuse(self._refusal)

    def on_url(self, url: bytes) -> None:
        if self._refusal is None:
            super().on_url(url)
            if len(self.url) > HARD_MAX_URL_BYTES:
                self._refusal, self.url = 414, b""

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refusal is None:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._refusal is None:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refusal is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_head, self._head_bytes = True, 0
        if self._refusal is None:
            super().on_message_complete()

    def _refuse(self, status: int) -> None:
        body = problem(status, URL_TOO_LONG if status == 414 else HEADERS_TOO_LARGE).body
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: ", PROBLEM.encode(), b"\r\n",
                 b"content-length: ", str(len(body)).encode(), b"\r\n",
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + bytes(body))
        self._answered = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
