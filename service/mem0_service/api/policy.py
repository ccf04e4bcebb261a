"""A route and the access it needs, declared together: the route table is the one place that says who may call what.

The access middleware (middlewares.access_middleware) reads the policy of the matched route; handlers never check
roles themselves. What a caller may *see* inside a permitted route (one user, one agent) travels as the
principal's `Access` into the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

AccessLevel = Literal["public", "read", "write", "admin"]
ErrorStyle = Literal["api", "mem0"]  # mem0's clients show `detail`; the guide's clients read `message`

ROUTE_POLICY = web.AppKey("route_policy", dict)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    response: type[BaseModel] | tuple[type[BaseModel], ...] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    access: AccessLevel = "read"
    audited: bool = False  # an audit line for every call, whatever its outcome
    errors: ErrorStyle = "api"
    public_setting: str | None = None  # a Settings field that, when true, makes the route public
    headers: type[BaseModel] | None = None  # request headers the route reads, by alias
    etag: bool = False  # answers with the memory's ETag header
    accepted: type[BaseModel] | None = None  # the 202 answer when the work is queued instead of done

    @property
    def public(self) -> bool:
        return self.access == "public"


def setup_routes(app: web.Application, routes: list[Route]) -> None:
    policy: dict[web.AbstractRoute, Route] = {}
    for route in routes:
        policy[app.router.add_route(route.method, route.path, route.handler)] = route
        if route.method == "GET":  # curl -I: HEAD answers wherever GET does, under the same policy
            policy[app.router.add_route("HEAD", route.path, route.handler)] = route
    app[ROUTE_POLICY] = policy


def route_of(request: web.Request) -> Route | None:
    """The declared route a request matched; None for 404/405 and routes outside the table."""
    info = request.match_info
    if info is None or info.route is None:
        return None
    return request.app.get(ROUTE_POLICY, {}).get(info.route)
