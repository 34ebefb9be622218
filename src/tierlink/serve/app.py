"""The HTTP face of the gateway (FastAPI): OpenAI's chat-completions and models routes, health,
readiness and Prometheus metrics. Every error is an OpenAI error object.

Streaming (serve.stream): 'live' forwards pieces as they arrive, falling back only while nothing
has been sent; 'buffered' releases the answer once the answering endpoint has finished, so any
failure can fall back. Either way the client never sees two models' answers spliced together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierlink.serve.admin import admin_routes
from tierlink.serve.errors import ApiError, api_error, bad_request
from tierlink.serve.gateway import Gateway, new_request_id
from tierlink.serve.refusals import Refusal, Unauthorized
from tierlink.serve.responses import (
    Chunks,
    buffered_sse,
    completion_body,
    live_headers,
    live_sse,
    private_flag,
    response_headers,
)
from tierlink.serve.wire import ChatRequest

log = logging.getLogger("tierlink.serve")
CHAT_PATH = "/v1/chat/completions"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (OpenAI error object)"},
    401: {"description": "Missing, invalid or revoked API key"},
    402: {"description": "Session or key budget exhausted"},
    404: {"description": "Unknown model"},
    429: {"description": "Rate limited (Retry-After says when to retry)"},
    503: {"description": "No endpoint could answer"},
}


def create_app(gateway: Gateway) -> FastAPI:
    """The gateway's HTTP app: routes, error mapping, the OpenAPI spec with its models."""
    app = FastAPI(title="tierlink gateway", version="1", lifespan=_lifespan(gateway), docs_url=None, redoc_url=None,
                  openapi_url=None, description="OpenAI-compatible gateway that routes each turn across device, edge and cloud.")
    _map_errors(app, gateway)
    _status_routes(app, gateway)
    app.add_api_route(CHAT_PATH, _chat_route(gateway), methods=["POST"], responses=ERRORS,
                      response_model=None)
    admin_routes(app, gateway)

    def openapi() -> dict[str, Any]:
        """FastAPI's spec, with the models this gateway serves listed as the `model` field's values."""
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            spec["components"]["schemas"]["ChatRequest"]["properties"]["model"]["enum"] = gateway.models()
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _doc_routes(app, gateway)
    return app


def _doc_routes(app: FastAPI, gateway: Gateway) -> None:
    """The spec and its browsable page, behind the key when keys are required (they list the models)."""

    @app.get("/openapi.json", include_in_schema=False)
    async def spec(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        gateway.authenticate(authorization)
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(authorization: Annotated[str | None, Header()] = None) -> Response:
        gateway.authenticate(authorization)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")


def _lifespan(gateway: Gateway) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm = asyncio.create_task(gateway.warm_up())
        try:
            yield
        finally:
            warm.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await warm
            await gateway.drain(gateway.config.serve.drain_timeout_s)  # turns whose clients left
            await gateway.aclose()
    return lifespan


def _map_errors(app: FastAPI, gateway: Gateway) -> None:
    """Every error, the engine's refusals included, as an OpenAI error object; a chat request
    turned away before its route ran (a malformed body) is still counted in the metrics."""

    def counted(request: Request, error: ApiError) -> JSONResponse:
        if request.url.path == CHAT_PATH and not getattr(request.state, "counted", False):
            gateway.metrics.rejected("unknown", error.status)
        return error.response()

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        return counted(request, api_error(exc))

    @app.exception_handler(ApiError)
    async def shaped(request: Request, exc: ApiError) -> JSONResponse:
        return counted(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            context = first.get("ctx") or {}
            return counted(request, bad_request(f"the body is not valid JSON ({context.get('error', 'decode error')})"))
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if first.get("type") == "string_unicode":  # a lone surrogate: the same answer as the model's own check
            return counted(request, bad_request(f"{where}: the text holds a lone surrogate (not valid Unicode); "
                                                "send UTF-8 text", where, "invalid_value"))
        return counted(request, bad_request(f"{where or 'body'}: {first.get('msg', 'invalid')}", where or None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return ApiError(exc.status_code, str(exc.detail), kind).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return ApiError(500, f"internal error ({type(exc).__name__}); the request was not answered", "server_error").response()


def _status_routes(app: FastAPI, gateway: Gateway) -> None:
    """Health, readiness, metrics and the model list."""

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"description": "Endpoints still loading"}})
    async def ready(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """Open to probes; the endpoint names only to a caller with a key when keys are required."""
        if not gateway.ready:
            return ApiError(503, "endpoints are still loading", "server_error", "not_ready").response()
        try:
            gateway.authenticate(authorization)
        except Unauthorized:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": True, "endpoints": list(gateway.deployment.endpoints)})

    @app.get("/metrics", responses={401: ERRORS[401]})
    async def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
        gateway.authenticate(authorization)
        return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models", responses={401: ERRORS[401]})
    async def models(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        gateway.authenticate(authorization)
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "tierlink"}
                                           for name in gateway.models()]}


def _chat_route(gateway: Gateway) -> Callable[..., Any]:
    async def chat(body: ChatRequest, http: Request, authorization: Annotated[str | None, Header()] = None,
                   x_tierlink_session: Annotated[str | None, Header()] = None,
                   x_tierlink_private: Annotated[str | None, Header()] = None) -> JSONResponse | StreamingResponse:
        started = time.perf_counter()
        model_label = body.model if body.model in gateway.policies else "unknown"  # bounded label values
        gateway.metrics.in_flight.inc()

        def finished(status: int) -> None:
            http.state.counted = True
            gateway.metrics.request_done(model_label, status, body.stream, time.perf_counter() - started)

        try:
            caller = gateway.authenticate(authorization)
            private = private_flag(x_tierlink_private)
        except Refusal as exc:
            finished(api_error(exc).status)
            raise
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        live = body.stream and gateway.config.serve.stream == "live"
        pieces: asyncio.Queue[str] = asyncio.Queue()
        request_id = new_request_id()  # before the turn: live chunks carry it too
        turn = gateway.track(asyncio.create_task(
            gateway.chat(body, caller, x_tierlink_session, pieces.put_nowait if live else None, request_id, private)))

        first = asyncio.ensure_future(pieces.get()) if live else None
        if first is None:  # shielded: a client that leaves does not cancel the turn
            await asyncio.wait({turn})
        else:
            await asyncio.wait({turn, first}, return_when=asyncio.FIRST_COMPLETED)
        if first is not None and first.done():
            chunks = Chunks(f"chatcmpl-{request_id}", int(time.time()), body.model)
            return StreamingResponse(live_sse(chunks, first.result(), pieces, turn, include_usage, finished),
                                     media_type="text/event-stream", headers=live_headers(request_id, x_tierlink_session or body.user))
        if first is not None:  # the turn ended before any piece: a plain answer or a proper HTTP error
            first.cancel()
        try:
            outcome = turn.result()
        except Refusal as exc:
            finished(api_error(exc).status)
            raise
        except Exception:
            finished(500)
            raise
        finished(200)
        if body.stream:
            return StreamingResponse(buffered_sse(outcome, include_usage), media_type="text/event-stream",
                                     headers=response_headers(outcome))
        return JSONResponse(completion_body(outcome), headers=response_headers(outcome))
    return chat
