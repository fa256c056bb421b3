"""A webhook receiver for the benchmarks: answers every POST 200 at once and keeps, per
message, its `webhook-id`, the event's aggregate id and the time it arrived (the
machine's clock, as the sender's is). `GET /stats` gives them all as JSON.

Run as `python -m bench.receiver --port N` (one uvicorn process, its own core's worth)."""

import argparse
import json
import time
from typing import Any

import uvicorn

arrivals: list[tuple[str, int, float]] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "GET":
        payload = json.dumps({"arrivals": arrivals}).encode()
    else:
        headers = dict(scope["headers"])
        event = json.loads(body or b"{}")
        arrivals.append((headers.get(b"webhook-id", b"").decode(),
                         int(event.get("aggregate_id") or 0), time.time()))
        payload = b"{}"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
