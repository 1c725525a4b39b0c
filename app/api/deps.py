"""Annotated dependency aliases. All are `async def`: a plain `def` dependency runs in
the thread pool and halves throughput (FACTS.md)."""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.jobs.scheduler import JobRunner
from app.runtime import Runtime
from app.services.blog import BlogService
from app.services.phone import PhoneSync
from app.services.status import StatusService
from app.storage.events import EventStore
from app.storage.state import StateManager

_UNAUTHORIZED = HTTPException(
    401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
)


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def require_token(request: Request) -> str:
    """The caller's token name ("admin" for HEARTH_API_TOKEN); 401 otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _UNAUTHORIZED
    runtime: Runtime = request.app.state.runtime
    admin = runtime.settings.api_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return "admin"
    name = runtime.tokens.match(token, time.time())
    if name is None:
        raise _UNAUTHORIZED
    return name


async def get_state(request: Request) -> StateManager:
    runtime: Runtime = request.app.state.runtime
    return runtime.state


async def get_phone(request: Request) -> PhoneSync:
    runtime: Runtime = request.app.state.runtime
    return runtime.phone


async def get_events(request: Request) -> EventStore:
    runtime: Runtime = request.app.state.runtime
    return runtime.events


StateDep = Annotated[StateManager, Depends(get_state)]
PhoneDep = Annotated[PhoneSync, Depends(get_phone)]
EventsDep = Annotated[EventStore, Depends(get_events)]


async def get_status(request: Request) -> StatusService:
    runtime: Runtime = request.app.state.runtime
    return runtime.status


async def get_jobs(request: Request) -> JobRunner:
    runtime: Runtime = request.app.state.runtime
    return runtime.jobs


async def get_blog(request: Request) -> BlogService:
    runtime: Runtime = request.app.state.runtime
    return runtime.blog


StatusDep = Annotated[StatusService, Depends(get_status)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
BlogDep = Annotated[BlogService, Depends(get_blog)]
