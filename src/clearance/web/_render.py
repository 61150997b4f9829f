"""Rendering: the Jinja2 environment, its filters, and HTML pages for answers and errors."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from clearance.errors import ClearanceError

log = logging.getLogger("clearance.web")

DAY = dt.timedelta(days=1)
SECURITY_HEADERS = {
    # Pages need nothing but their own stylesheet: no script, no frame, no outside origin.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
TIER_NAMES = {
    "public": "Public",
    "public_safeguarded": "Public with safeguards",
    "approved_partners": "Approved partners",
    "internal": "Internal only",
    "halted": "Halted",
}


def when(value: dt.datetime | str | None) -> Markup:
    """A time as a <time> element, to the minute, in UTC."""
    if value is None:
        return Markup("—")
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.astimezone(dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d %H:%M UTC")
    )


def day(value: dt.datetime | str | None) -> Markup:
    """A time as a <time> element showing the date only."""
    if value is None:
        return Markup("—")
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.astimezone(dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d")
    )


def days_until(deadline: dt.datetime | str, now: dt.datetime) -> int:
    """Whole days from `now` to `deadline`, rounded up; negative once it has passed."""
    moment = dt.datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    return math.ceil((moment - now) / DAY)


def countdown(days: int) -> str:
    """Days left in words."""
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    if days == 0:
        return "due today"
    return f"{days} day{'s' if days != 1 else ''} left"


def tier_name(tier: str | None) -> str:
    """A tier id in words."""
    return "—" if tier is None else TIER_NAMES.get(tier, tier)


def badge(kind: str, value: str | None, text: str | None = None) -> Markup:
    """A status or tier badge: its words, with a class for its colour."""
    if value is None:
        return Markup('<span class="badge">none</span>')
    label = text if text is not None else value.replace("_", " ")
    return Markup('<span class="badge {}-{}">{}</span>').format(kind, value, label)


def short(digest: str, size: int = 12) -> str:
    """The start of a digest, for display beside the full value in a title."""
    return digest[:size]


@cache
def environment() -> Environment:
    """The template environment (autoescaped; an undefined name is an error, not a blank)."""
    env = Environment(
        loader=PackageLoader("clearance.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(when=when, day=day, countdown=countdown, tier_name=tier_name, short=short)
    env.globals.update(badge=badge, tier_name=tier_name)
    return env


def render(template: str, **data: Any) -> str:
    """A template rendered with `data`."""
    return environment().get_template(template).render(**data)


def page(request: Request, template: str, status_code: int = 200, **data: Any) -> HTMLResponse:
    """A page: the template with what every page needs (who is signed in, the path)."""
    from clearance.web._session import signed_in

    html = render(template, signed_in=signed_in(request), path=request.url.path, **data)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """An error as a page: a heading, a sentence, and the way home; never a traceback."""
    return page(request, "error.html", status, title=title, message=message)


class HtmlRoute(APIRoute):
    """A route whose failures are pages: a ClearanceError with its status, others as 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ClearanceError as exc:
                titles = {404: "Not found", 403: "Not allowed", 401: "Sign in needed"}
                title = titles.get(exc.http_status, "That did not work")
                return error_page(request, exc.http_status, title, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                message = f"{where}: {first.get('msg', 'not valid')}"
                return error_page(request, 400, "That address is not valid", message)
            except Exception:
                log.exception("page failed: %s %s", request.method, request.url.path)
                return error_page(
                    request, 500, "Something went wrong", "The page failed; this was logged."
                )

        return answer


def text(value: object) -> Markup:
    """Plain text made safe for HTML."""
    return escape(str(value))
