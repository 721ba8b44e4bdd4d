"""Security headers on every answer (issue 18, defect 3): a page on another origin could frame the signed-in
console and a provider's `/p/` workspace (clickjacking), and nothing told a browser to refuse a script that
got into a page. One plain ASGI middleware, outermost, so that error answers (the Korean error pages,
problem+json, the other middlewares' own refusals) carry the headers too; it only adds headers.

- `Content-Security-Policy`: scripts, styles, fetches and images from our own origin only (and `data:`
  images, which Swagger UI's stylesheet uses), no plugins, no `<base>`, forms post only to us, and no page
  may be framed. No `'unsafe-inline'`: the pages keep no inline `<script>`, `on*=` handler or `style=`
  attribute (tests/test_security_headers.py checks every template); the little they did is in
  api/static/pages.js and dolbom.css, and /docs boots Swagger UI from api/static/swagger-init.js.
- `X-Frame-Options: DENY` for browsers that do not know `frame-ancestors`; `X-Content-Type-Options: nosniff`.
- `Referrer-Policy: same-origin`: the SMS link pages' addresses are their credentials (/o/, /s/, /p/,
  /apply/code/, /apply/s/), so no page sends its address to another site; simplest on every answer. Not
  `no-referrer`: under it a browser sends `Origin: null` with every form POST, even to the page's own origin,
  and the console's same-origin check (the second line against cross-site POSTs) must refuse that.
- `Cache-Control: no-store` on the /v1/ API (requests, providers, tokens: personal data or credentials;
  the places list is behind sign-in too). The private HTML pages get it from `NoStore`
  (api/routers/console/common.py)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NO_STORE_PREFIXES = ("/v1/",)


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        no_store = scope["path"].startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
