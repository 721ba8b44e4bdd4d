"""One access line per request, written here instead of by uvicorn: the route's template
(`GET /p/{token}/r/{ref} 303`), never the path as sent nor its query. Paths carry 30-day workspace links,
offer, status and application tokens; the console's queries carry the phone number or the name an operator
is typing (issue 18, defects 4 and 5). uvicorn's own access log is off (api.cli)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("api.access")


def route_of(scope: Scope) -> str:
    """The matched route's template; a path no route matched is not written at all (it may be a token)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template + ("/…" if hasattr(route, "routes") else "") if template else "(no route)"


class AccessLog:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            client = (scope.get("client") or ("-",))[0]
            logger.info('%s "%s %s" %d %.0fms', client, scope.get("method"), route_of(scope), status,
                        (time.perf_counter() - started) * 1000)
