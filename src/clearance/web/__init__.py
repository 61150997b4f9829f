"""The public register on the web: server-rendered pages that work without JavaScript.

Models and their status, decisions with their reasons and how to verify them, directives,
framework versions with their differences and impact, capability-versus-threshold charts, risk
reports, and the reviewers' queue. Pages read the same store as the REST API.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from clearance.web._render import render


def mount_web(app: FastAPI) -> None:
    """Add the pages at / and their stylesheet at /static to an app built by `create_app`."""
    from clearance.web._cases import router as cases
    from clearance.web._charts import router as charts
    from clearance.web._frameworks import router as frameworks
    from clearance.web._home import router as home
    from clearance.web._queue import router as queue

    for router in (home, cases, frameworks, charts, queue):
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("clearance.web", "static")]), name="static")


__all__ = ["mount_web", "render"]
