"""The tracking endpoint, an ASGI app (Starlette, which the Dagster webserver already brings):

  GET  /o/<token>?p=&s=        an open: answers a 1x1 GIF
  GET  /c/<token>?p=&u=&s=     a click: redirects to u (only if the signature covers u)
  GET  /u/<token>?p=&s=        the unsubscribe page, with a button (mail scanners follow links)
  POST /u/<token>?p=&s=        unsubscribes (also RFC 8058 one-click from the List-Unsubscribe header)
  GET  /health

Events land as files in the landing directory (events.py); a bad signature is refused (400) and
records nothing.

    blueprint tracking-server --port 8088
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
from pathlib import Path
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from blueprint_pipeline.tracking.events import EventWriter
from blueprint_pipeline.tracking.links import valid

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">{body}</body></html>"""


def create_app(landing: Path, secret: str, rotate_seconds: float = 5.0) -> Starlette:
    writer = EventWriter(landing, rotate_seconds)

    def checked(request: Request, kind: str, *extra: str) -> tuple[str, str] | None:
        token, person = request.path_params["token"], request.query_params.get("p", "")
        if not person or not valid(secret, request.query_params.get("s", ""), kind, token, person, *extra):
            return None
        return token, person

    def agent(request: Request) -> str:
        return request.headers.get("user-agent", "")

    async def opened(request: Request) -> Response:
        found = checked(request, "o")
        if found:
            writer.record("open", *found, user_agent=agent(request))
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    async def clicked(request: Request) -> Response:
        url = request.query_params.get("u", "")
        found = checked(request, "c", url)
        if not found or not url.startswith(("http://", "https://")):
            return PlainTextResponse("This link is not valid.", status_code=400)
        writer.record("click", *found, url=url, user_agent=agent(request))
        return RedirectResponse(url, status_code=302)

    async def unsubscribe(request: Request) -> Response:
        found = checked(request, "u")
        if not found:
            return HTMLResponse(PAGE.format(title="Not valid", body="<p>This link is not valid.</p>"), 400)
        if request.method == "POST":
            writer.record("unsubscribe", *found, user_agent=agent(request))
            body = "<p>You are unsubscribed. You will get no more of these emails.</p>"
            return HTMLResponse(PAGE.format(title="Unsubscribed", body=body))
        # The form posts back the signed parameters alone, encoded for the attribute: nothing of
        # the request is echoed into the page as it came.
        signed = urlencode({"p": found[1], "s": request.query_params["s"]})
        action = html.escape(f"{quote(request.url.path)}?{signed}")
        form = (
            f'<p>Stop these emails?</p><form method="post" action="{action}">'
            '<button type="submit">Unsubscribe</button></form>'
        )
        return HTMLResponse(PAGE.format(title="Unsubscribe", body=form))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def rotate_forever():
            while True:
                await asyncio.sleep(min(rotate_seconds, 1.0))
                writer.rotate_if_due()

        task = asyncio.create_task(rotate_forever())
        try:
            yield
        finally:
            task.cancel()
            writer.rotate()

    app = Starlette(
        routes=[
            Route("/o/{token}", opened),
            Route("/c/{token}", clicked),
            Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )
    app.state.writer = writer
    return app
