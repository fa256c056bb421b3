"""The baseline for GET /v1/opportunities/{id}: a bare FastAPI route that reads the same
row by (organization_id, id) with raw asyncpg from a pool and returns it as JSON, with no
credential, no ORM and no response model. Served by uvicorn as `salescore serve` is (one
worker unless `--workers N`, same loop and HTTP implementation, access log off at the
`warning` level):

    BENCH_DSN=postgresql://... BENCH_ORGANIZATION_ID=1 python -m bench.baseline_app --port P
"""

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

POOL_SIZE = 32  # salescore's SALESCORE_DB_POOL_SIZE default; BENCH_POOL_SIZE per worker
QUERY = """SELECT * FROM opportunities WHERE organization_id = $1 AND id = $2"""


def as_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    size = int(os.environ.get("BENCH_POOL_SIZE", POOL_SIZE))
    async with asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=size,
                                   max_size=size) as pool:
        app.state.pool = pool
        app.state.organization_id = int(os.environ["BENCH_ORGANIZATION_ID"])
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(status_code=200)


@app.get("/v1/opportunities/{opportunity_id}")
async def get_opportunity(opportunity_id: int, request: Request) -> Response:
    state = request.app.state
    row = await state.pool.fetchrow(QUERY, state.organization_id, opportunity_id)
    if row is None:
        return JSONResponse({"title": "Not Found"}, status_code=404)
    return JSONResponse({key: as_json(value) for key, value in row.items()})


def main(argv: list[str] | None = None) -> None:
    root = argparse.ArgumentParser(prog="python -m bench.baseline_app", description=__doc__)
    root.add_argument("--host", default="127.0.0.1")
    root.add_argument("--port", type=int, required=True)
    root.add_argument("--workers", type=int, default=1,
                      help="uvicorn worker processes, each with its own pool")
    args = root.parse_args(argv)
    uvicorn.run(app if args.workers == 1 else "bench.baseline_app:app", host=args.host,
                port=args.port, log_level="warning", proxy_headers=False,
                workers=args.workers)


if __name__ == "__main__":
    main()
