"""A worker's context made from the test app, with settings changed for one test."""

from typing import Any

from fastapi import FastAPI

from salescore.settings import Settings
from salescore.workers.context import WorkerContext


def context_of(app: FastAPI, settings: Settings, **changes: Any) -> WorkerContext:
    state = app.state.salescore
    return WorkerContext(settings.model_copy(update=changes), state.engine, state.sessions)
