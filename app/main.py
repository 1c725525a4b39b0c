"""create_app(settings): the FastAPI app; everything long-lived is built in lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

import app as hearth
from app.api.deps import require_token
from app.api.errors import install_error_handlers
from app.api.middleware import BodyLimit, RequestContext
from app.api.routes import (
    backups,
    blog,
    events,
    fallback,
    health,
    health_export,
    imports,
    jobs,
    metrics,
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
        runtime = await Runtime.open(settings, purpose=argv_purpose())
        try:
            runtime.check_exposure()
            await runtime.start()
            api.state.runtime = runtime
            yield
        finally:
            await runtime.close()

    api = FastAPI(title="Hearth", version=hearth.__version__, lifespan=lifespan)
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(web_router)
    protected = [Depends(require_token)]
    for app_route in (health_export, imports):  # apps' own bodies, before the fallback
        api.include_router(app_route.router, dependencies=protected)
    for module in (status, phone, events, blog, backups, jobs, metrics, fallback):
        api.include_router(module.router, dependencies=protected)
    api.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    api.state.metrics_registry = registry = new_registry()
    api.add_middleware(
        RequestContext,
        trusted_proxies=settings.trusted_proxies,
        access_log=settings.access_log,
        histogram=request_histogram(registry),
    )
    return api
