"""create_app(settings): the FastAPI app; everything long-lived is built in lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.routing import Route

import app as hearth
from app.api.auth import require_token
from app.api.deps import AuthFirst
from app.api.errors import install_error_handlers
from app.api.mcp import McpEndpoint
from app.api.memory import Memory
from app.api.middleware import BodyLimit, RequestContext
from app.api.poll import MoodPut, StatePoll
from app.api.routes import (
    backups,
    blog,
    events,
    fallback,
    health,
    health_export,
    imports,
    ingest,
    insights,
    jobs,
    locations,
    metrics,
    notifications,
    phone,
    status,
)
from app.api.routes.web import router as web_router
from app.config import Settings
from app.metrics import new_registry, request_histogram
from app.runtime import Runtime
from app.storage.lock import argv_purpose


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, purpose=argv_purpose(), serving=True)
        try:
            runtime.check_exposure()
            await runtime.start()
            api.state.runtime = runtime
            memory = api.state.memory = Memory.open(runtime)
            warming = asyncio.create_task(memory.warm(), name="memory-warm")
            try:
                async with mcp.running():
                    yield
            finally:
                warming.cancel()
                await asyncio.wait([warming])  # never raises the task's own cancellation
        finally:
            await runtime.close()

    mcp = McpEndpoint()
    api = FastAPI(title="Hearth", version=hearth.__version__, lifespan=lifespan)
    api.add_middleware(MoodPut)  # first, so inside LastResort (added by the next line)
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(web_router)
    protected = [Depends(require_token)]
    for app_route in (health_export, imports):  # apps' own bodies, before the fallback
        api.include_router(app_route.router, dependencies=protected)
    routers = (status, phone, events, insights, locations, ingest, blog, backups, jobs, metrics)
    for module in (*routers, notifications, fallback):
        api.include_router(module.router, dependencies=protected)
    api.router.routes.append(Route("/mcp", mcp, include_in_schema=False))
    api.add_middleware(StatePoll)
    api.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    api.add_middleware(AuthFirst)
    api.state.metrics_registry = registry = new_registry()
    api.add_middleware(
        RequestContext,
        trusted_proxies=settings.trusted_proxies,
        access_log=settings.access_log,
        histogram=request_histogram(registry),
    )
    return api
