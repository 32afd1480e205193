"""A Starlette Router that finds routes without parameters by a dictionary lookup.

Starlette tries routes in order, one regular expression each, and every request paid for
the routes listed before its own (a token request tried a dozen; measured in
docs/benchmarks.md). Here a request for a path that some parameterless route serves goes
straight to that route; anything else (paths with parameters, 404, 405, the redirect of a
trailing slash) takes Starlette's own scan, so the answers are Starlette's in every case
but two: a 405's Allow header names every method the path takes (RFC 9110 section
15.5.6), where Starlette named only those of the first route for the path (a path served
by a GET route and a PUT route answered PATCH with "Allow: GET, HEAD"); and a path that
routes without parameters serve is answered by them alone, 405 for any other method,
where Starlette went on to a later route with a parameter that matched it (PUT
/api/v2/users/me reached the update of a user, and said there was no user "me").
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


class ExactPathRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: object) -> None:
        super().__init__(routes=list(routes), **kwargs)  # type: ignore[arg-type]
        self._exact: dict[str, list[Route]] = {}
        for index, route in enumerate(self.routes):
            if not isinstance(route, Route) or route.param_convertors:
                continue
            # Starlette gives a path to the first route that matches it: take the shortcut
            # only where no earlier route (other than this path's other methods) could.
            shadowed = any(
                _could_match(other, route.path)
                for other in self.routes[:index]
                if not (isinstance(other, Route) and other.path == route.path)
            )
            if not shadowed:
                self._exact.setdefault(route.path, []).append(route)

    def exact_routes(self) -> list[tuple[str, Route]]:
        """(path, route) for every route found by dictionary lookup, in the table's order."""
        return [(path, route) for path, routes in self._exact.items() for route in routes]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            candidates = self._exact.get(scope["path"])
            if candidates is not None:
                for route in candidates:
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        scope.setdefault("router", self)
                        scope["route"] = route
                        scope.update(child_scope)
                        await route.handle(scope, receive, send)
                        return
                # A path written out in full is that path's only meaning: another method on it
                # is a 405, not a value for a parameter of a later route (PUT /api/v2/users/me
                # is not an update of a user whose id is "me").
                allowed = set().union(*(route.methods or () for route in candidates))
                raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        if scope["type"] == "http":
            await self._scan(scope, receive, send)
            return
        await super().app(scope, receive, send)

    async def _scan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's scan of the routes in order, gathering on the way the methods of every
        route whose path matches, for the Allow header of a 405. A 404 and the redirect of a
        trailing slash are Starlette's own (which scans again: only those answers pay)."""
        scope.setdefault("router", self)
        allowed: set[str] = set()
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and isinstance(route, Route) and route.methods:
                allowed |= route.methods
        if allowed:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        await super().app(scope, receive, send)


def _could_match(route: BaseRoute, path: str) -> bool:
    regex = getattr(route, "path_regex", None)
    return regex is not None and regex.match(path) is not None
