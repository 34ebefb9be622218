"""The gateway's admin routes: endpoints join and leave at run time (serve.membership), behind
the admin key (the environment variable `serve.admin_key_env` names; unset, the routes are off)."""

from __future__ import annotations

import hmac
import os
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from tierlink.serve.gateway import Gateway
from tierlink.serve.membership import JoinReport, JoinRequest, Membership
from tierlink.serve.refusals import Forbidden, Unauthorized

ADMIN_PATH = "/admin/endpoints"
Auth = Annotated[str | None, Header()]  # the Authorization header (module level: FastAPI resolves it by name)
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed member (the field is named)"},
    401: {"description": "Missing or wrong admin key"},
    403: {"description": "Admin routes are off (no admin key set)"},
    404: {"description": "No endpoint of that name"},
    409: {"description": "A model of that name is already here"},
    503: {"description": "The endpoint failed its health check; nothing was added"},
}


def check_admin(gateway: Gateway, authorization: str | None) -> None:
    """Let the admin key through; anything else is a 401, and every call a 403 with no key set."""
    variable = gateway.config.serve.admin_key_env
    expected = os.environ.get(variable, "")
    if not expected:
        raise Forbidden(f"admin routes are off: set {variable} to a secret before `tierlink serve`, "
                        "then send it as 'Authorization: Bearer <secret>'")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthorized(f"admin routes need the admin key (the value of {variable}) as 'Authorization: Bearer <key>'")


def admin_routes(app: FastAPI, gateway: Gateway) -> None:
    """List, add, health-check and remove endpoints; the OpenAPI model list follows each change."""
    membership = Membership(gateway)

    @app.get(ADMIN_PATH, responses=ADMIN_ERRORS)
    async def members(authorization: Auth = None) -> dict[str, Any]:
        check_admin(gateway, authorization)
        return {"endpoints": [_describe(gateway, name) for name in gateway.deployment.endpoints],
                "fallback": list(gateway.fallback)}

    @app.post(ADMIN_PATH, status_code=201, responses=ADMIN_ERRORS)
    async def join(body: JoinRequest, authorization: Auth = None) -> JoinReport:
        check_admin(gateway, authorization)
        report = await membership.join(body)
        app.openapi_schema = None  # the spec lists the models
        return report

    @app.post(ADMIN_PATH + "/{name}/health", responses=ADMIN_ERRORS)
    async def health(name: str, authorization: Auth = None, timeout_s: float = 30.0) -> dict[str, Any]:
        check_admin(gateway, authorization)
        seconds = await membership.health(name, membership.member(name), min(max(timeout_s, 0.1), 600.0))
        return {"name": name, "healthy": True, "seconds": round(seconds, 4)}

    @app.delete(ADMIN_PATH + "/{name}", responses=ADMIN_ERRORS)
    async def leave(name: str, authorization: Auth = None) -> JSONResponse:
        check_admin(gateway, authorization)
        models = await membership.leave(name)
        app.openapi_schema = None
        return JSONResponse({"removed": name, "models": models})


def _describe(gateway: Gateway, name: str) -> dict[str, Any]:
    """One member as the admin sees it: where it runs, its breaker and its queue."""
    spec = gateway.config.endpoints[name]
    breaker = gateway.breakers.get(name)
    queue = gateway.admission.get(name)
    return {"name": name, "kind": spec.kind, "node": spec.node, "tier": gateway.config.nodes[spec.node].tier,
            "breaker": breaker.state if breaker else None, "queued": queue.waiting if queue else 0}
