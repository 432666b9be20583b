"""Two guards in front of every request, as plain ASGI middleware (streams stay streams).

- `TokenMiddleware`: with a token set, every request (page, API, docs) must carry it:
  `Authorization: Bearer TOKEN`, `?token=TOKEN`, or the cookie that a request with a
  valid `?token=` sets, so that `<img>`, downloads, `/docs` and EventSource work too.
  A browser asking for a page without it gets a short page in English and German that
  says how to get in; everything else gets 401 JSON.
- `BodyLimitMiddleware`: a body over the limit gets 413 before the app reads it: a
  declared Content-Length is checked first, and a streamed body is counted as it arrives.
"""

from __future__ import annotations

import re
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from lernwerk.serving.errors import error_body
from lernwerk.serving.responses import dumps

Scope = dict[str, Any]
TOKEN_COOKIE = "lernwerk_token"
_DRAIN_LIMIT = 256 * 1024 * 1024  # read (and drop) at most this much of a refused body
_COOKIE_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


async def send_json(
    send: Any, status: int, body: dict[str, Any], headers: list | None = None
) -> None:
    data = dumps(body).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


# What a workshop lets in without a token: the join page, what it needs, and joining.
WORKSHOP_OPEN = (
    "/join.html",
    "/join.js",
    "/dom.js",
    "/i18n.js",
    "/style.css",
    "/favicon.svg",
    "/i18n/en.json",
    "/i18n/de.json",
    "/api/workshop/join",
)


class TokenMiddleware:
    """Answer 401 to every request without the token.

    In a workshop (`participant` given: a participant's name for a token, or None) a
    participant's token lets in too, and the request's state says whose it is
    (`participant`; None for the server's own token). Without a token, a browser is sent to
    the join page.
    """

    def __init__(self, app: Any, token: str, participant: Any = None) -> None:
        self.app, self.token, self.participant = app, token, participant

    def _matches(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(
            given.encode("utf-8"), self.token.encode("utf-8")
        )

    def _who(self, given: str | None) -> tuple[bool, str | None]:
        """(let in, the participant's name) for a token."""
        if self._matches(given):
            return True, None
        name = self.participant(given) if self.participant is not None and given else None
        return name is not None, name

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        from_query = (query.get("token") or [None])[0]
        auth = _header(scope, b"authorization") or ""
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        for given, setting in ((bearer, False), (from_query, True), (_cookie(scope), False)):
            ok, name = self._who(given)
            if ok:
                scope.setdefault("state", {})["participant"] = name
                await self.app(scope, receive, _setting_cookie(send, given) if setting else send)
                return
        if self.participant is not None and scope.get("path") in WORKSHOP_OPEN:
            scope.setdefault("state", {})["participant"] = None
            await self.app(scope, receive, send)
            return
        if self.participant is not None and _wants_page(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", b"/join.html"), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if _wants_page(scope):
            await send_html(send, 401, TOKEN_PAGE, [(b"www-authenticate", b"Bearer")])
            return
        await send_json(
            send,
            401,
            error_body(
                "Unauthorized",
                "this server needs its access token: open the address it printed at start "
                "(with ?token=…) or send 'Authorization: Bearer TOKEN'",
            ),
            [(b"www-authenticate", b"Bearer")],
        )


# What a browser without the token sees instead of the page: how to get in, both languages.
TOKEN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lernwerk: access token needed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:38rem;margin:3rem auto;padding:0 1rem;
color:#1f2933}h1{font-size:1.3rem}section+section{border-top:1px solid #d5dbe1;margin-top:1.5rem}
code{background:#eef1f4;padding:0 .25rem;border-radius:3px}</style></head>
<body data-testid="token-page">
<section lang="en"><h1>This workbench needs its access token</h1>
<p>Open the full address that <code>lernwerk serve</code> printed when it started: it ends in
<code>?token=…</code>. Ask the person who started the server for it. Once opened, this browser
remembers the token.</p></section>
<section lang="de"><h1>Diese Werkbank braucht ihren Zugangsschlüssel</h1>
<p>Öffnen Sie die vollständige Adresse, die <code>lernwerk serve</code> beim Start ausgegeben
hat: Sie endet auf <code>?token=…</code>. Fragen Sie die Person, die den Server gestartet hat.
Danach merkt sich dieser Browser den Schlüssel.</p></section>
</body></html>
"""


async def send_html(send: Any, status: int, page: str, headers: list | None = None) -> None:
    data = page.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _wants_page(scope: Scope) -> bool:
    """A browser asking for a page (not the API, not a script): it gets the HTML answer."""
    path = scope.get("path", "")
    return (
        scope["type"] == "http"
        and scope.get("method") in ("GET", "HEAD")
        and not path.startswith(("/api/", "/openapi.json"))
        and "text/html" in (_header(scope, b"accept") or "")
    )


def _cookie(scope: Scope) -> str | None:
    try:
        morsel = SimpleCookie(_header(scope, b"cookie") or "").get(TOKEN_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def _setting_cookie(send: Any, token: str) -> Any:
    if not _COOKIE_SAFE.fullmatch(token):
        return send  # a token a cookie cannot hold travels in the URL or header only
    cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return wrapped


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over `limit` bytes with 413.

    The refused body is read on and dropped (up to 256 MB) before the answer, so that
    a client still sending it reads the 413 instead of a reset connection.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    def _body(self) -> dict[str, Any]:
        mb = self.limit / 2**20
        return error_body(
            "TooLarge", f"the request body is larger than the server's limit of {mb:g} MB"
        )

    async def _refuse(self, receive: Any, send: Any, received: int, more: bool) -> None:
        while more and received <= _DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send_json(send, 413, self._body(), [(b"connection", b"close")])

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(receive, send, 0, True)
            return
        state = {"received": 0, "more": True, "refused": False, "started": False}

        async def counting_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                state["more"] = message.get("more_body", False)
                if state["received"] > self.limit:
                    state["refused"] = True
                    raise _TooLarge
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["refused"]:
                return  # the app's answer to the broken-off body is replaced by the 413
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise
        if state["refused"] and not state["started"]:
            await self._refuse(receive, send, state["received"], state["more"])
