"""The web register in a real browser (Debian's Chromium through Playwright), over a real socket.

In CI (CI=true) a missing browser fails; elsewhere these tests skip, visibly.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.register_fixtures import Register, service_missing
from tests.web_fixtures import Populated, served_register

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, or a skip (a failure in CI) when it cannot start."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        service_missing("Playwright", exc)
    if not Path(CHROMIUM).exists():
        service_missing("Chromium", FileNotFoundError(CHROMIUM))
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=ARGS
            )
        except Error as exc:
            service_missing("Chromium", exc)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Register, Populated, str]]:
    """A populated register served on a free port."""
    with served_register(tmp_path_factory.mktemp("web-browser") / "data") as served:
        yield served


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at phone width that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 375, "height": 800})
    tab = context.new_page()
    tab.errors = []
    tab.on(
        "console",
        lambda message: tab.errors.append(message.text) if message.type == "error" else None,
    )
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("requestfailed", lambda request: tab.errors.append(f"failed: {request.url}"))
    yield tab
    context.close()


# the elements whose content overflows them, outside a scrolling box: named on failure
WIDEST = """
() => [...document.querySelectorAll("body *")]
  .filter((e) => e.scrollWidth > e.clientWidth + 1 && !e.closest(".scroll, pre"))
  .slice(0, 5)
  .map((e) => [e.tagName, e.className, e.scrollWidth, e.clientWidth, e.textContent.slice(0, 60)])
"""
# a word longer than the phone is wide (an id, a file name, a digest), in every block of the page
LONG_WORDS = """
() => {
  for (const block of document.querySelectorAll("main p, main li, main dd, main h1, main h2")) {
    if (!block.closest(".scroll, pre")) block.append(" " + "dec_0123456789abcdef".repeat(4));
  }
  return document.documentElement.scrollWidth;
}
"""


def test_every_page_loads_without_console_errors_at_phone_width(
    site: tuple[Register, Populated, str], page: Any
) -> None:
    _, made, base = site
    paths = [
        "/",
        "/models/atlas-2",
        "/models/atlas-2-mini",
        f"/decisions/{made.decision['id']}",
        f"/decisions/{made.departure['id']}",
        f"/directives/{made.directive['id']}",
        "/frameworks",
        f"/frameworks/{made.new_framework}",
        f"/frameworks/diff?old={made.old_framework}&new={made.new_framework}",
        "/charts",
        "/reports",
        "/signin",
    ]
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        assert page.errors == [], (path, page.errors)
        # every table scrolls in its own box, whatever its content and the machine's fonts
        bare = page.evaluate(
            "[...document.querySelectorAll('table')].filter((t) => !t.closest('.scroll')).length"
        )
        assert bare == 0, (path, bare)
        # nothing else may be wider than the phone, however long its words
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, (path, overflow, page.evaluate(WIDEST))
        stretched = page.evaluate(LONG_WORDS)
        assert stretched <= 375, (path, stretched, page.evaluate(WIDEST))


def test_sign_in_shows_the_queue_and_sign_out_ends_it(
    site: tuple[Register, Populated, str], page: Any
) -> None:
    reg, made, base = site
    page.goto(base + "/queue")
    page.wait_for_url(base + "/signin?next=/queue")
    page.fill("#api_key", reg.keys["reviewer"])
    page.click("button[type=submit] >> text=Sign in")
    page.wait_for_url(base + "/queue")
    assert page.locator("tr.overdue").count() == 1
    assert made.overdue["id"] in page.locator("tr.overdue").inner_text()
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts never see the key
    page.click("text=Sign out")
    page.wait_for_url(base + "/")
    page.goto(base + "/queue")
    page.wait_for_url(base + "/signin?next=/queue")
    assert page.errors == []


def test_a_directive_issued_through_the_api_appears_after_a_reload(
    site: tuple[Register, Populated, str], page: Any
) -> None:
    reg, _, base = site
    page.goto(base + "/")
    directives = page.locator("section[aria-labelledby=directives-h]")
    assert "Halt of rival-2" not in directives.inner_text()
    issued = reg.ok(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "halt",
            "model": "rival-2",
            "grounds": "Incident under investigation.",
            "urgent": True,
        },
    )
    page.reload()
    assert "Halt of rival-2" in directives.inner_text()
    page.click("text=Halt of rival-2")
    page.wait_for_url(f"{base}/directives/{issued['id']}")
    assert "Incident under investigation." in page.locator("main").inner_text()
    assert page.errors == []


def test_a_chart_has_its_data_points(site: tuple[Register, Populated, str], page: Any) -> None:
    _, _, base = site
    page.goto(base + "/charts/cyber")
    chart = page.locator("#chart-cyber-ctf-professional svg[role=img]")
    assert chart.is_visible()
    points = chart.locator("g.data-point")
    assert points.count() == 1
    assert points.first.get_attribute("data-value") == "0.6"
    assert points.first.locator("circle").bounding_box() is not None
    assert "atlas-2 2.0" in points.first.locator("title").text_content()
    assert chart.locator("line.threshold").count() == 2
    assert page.errors == []


def test_the_verify_block_commands_run_as_shown_succeed(
    site: tuple[Register, Populated, str], page: Any, tmp_path: Path
) -> None:
    _, made, base = site
    page.goto(base + f"/decisions/{made.decision['id']}")
    commands = [c.inner_text() for c in page.locator(".verify code.command").all()]
    assert [c.split()[:2] for c in commands] == [
        ["clearance", "bundle"],
        ["clearance", "verify"],
    ]
    clearance = str(Path(sys.executable).with_name("clearance"))
    outputs = []
    for command in commands:
        argv = shlex.split(command)
        done = subprocess.run(
            [clearance, *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert outputs[1].startswith("verified: entry")
    assert "decision.made" in outputs[1] and "model:atlas-2" in outputs[1]
    # the download link serves the very same bundle
    link = page.locator(".verify a[download]")
    assert link.get_attribute("href").endswith("/log/bundle/" + commands[0].split()[2])
