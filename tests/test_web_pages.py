"""The web register's pages in process: status codes, content, and accessibility basics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clearance.server import build_app, init_data_dir
from tests.register_fixtures import FakeClock, Register
from tests.web_fixtures import Populated, cast, populate


class Outline(HTMLParser):
    """What the accessibility checks look at: lang, headings, images, SVG labels, ids."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.headings: list[str] = []
        self.images_without_alt = 0
        self.svgs: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.labels_for: list[str] = []
        self.inputs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        if tag == "img" and "alt" not in found:
            self.images_without_alt += 1
        if tag == "svg":
            self.svgs.append(found)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.labels_for.append(str(found["for"]))
        if tag in ("input", "select") and found.get("type") != "hidden":
            self.inputs.append(str(found.get("id")))


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Register, Populated]]:
    """One populated register on SQLite for the module's read-only checks."""
    clock = FakeClock()
    folder = tmp_path_factory.mktemp("web") / "data"
    data, admin_key = init_data_dir(folder, origin="test.example/log", now=clock())
    store = data.open_store()
    with TestClient(build_app(store, clock=clock, clock_interval=None)) as client:
        reg = Register(client, clock, data, keys={"admin": admin_key})
        cast(reg)
        yield reg, populate(reg)
    store.engine.dispose()


def page_paths(made: Populated) -> list[str]:
    return [
        "/",
        "/models/atlas-2",
        "/models/atlas-2-mini",
        "/models/rival-2",
        f"/decisions/{made.decision['id']}",
        f"/decisions/{made.departure['id']}",
        f"/directives/{made.directive['id']}",
        f"/evidence/{made.decision['reasons'][0]['evidence'][0]}",
        "/frameworks",
        f"/frameworks/{made.old_framework}",
        f"/frameworks/{made.new_framework}",
        f"/frameworks/diff?old={made.old_framework}&new={made.new_framework}",
        "/charts",
        "/charts/cyber",
        "/reports",
        "/signin",
    ]


def test_every_page_is_accessible_html(site: tuple[Register, Populated]) -> None:
    reg, made = site
    for path in page_paths(made):
        response = reg.client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        found = outline(response.text)
        assert found.lang == "en", path
        assert found.headings.count("h1") == 1, path
        assert found.images_without_alt == 0, path
        assert len(found.ids) == len(set(found.ids)), (path, "duplicate ids")
        assert set(found.inputs) <= set(found.labels_for), (path, "an input without a label")
        for svg in found.svgs:
            if svg.get("aria-hidden") == "true":
                continue  # a legend's colour swatch: decoration, hidden from assistive tech
            assert svg.get("role") == "img" and svg.get("aria-labelledby"), path
        assert '<meta name="viewport"' in response.text
        assert "<script" not in response.text
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_the_stylesheet_is_served_from_the_package(site: tuple[Register, Populated]) -> None:
    reg, _ = site
    response = reg.client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "@import" not in response.text and "http" not in response.text


def test_home_shows_status_badges_clocks_directives_and_checkpoint(
    site: tuple[Register, Populated],
) -> None:
    reg, _ = site
    html = reg.client.get("/").text
    assert 'class="badge status-approved"' in html
    assert 'class="badge tier-public_safeguarded"' in html
    assert "days overdue" in html  # rival-1's deadline passed without a decision
    assert "clock stopped" in html  # rival-2 awaits an answer
    assert "Restore of atlas-2-mini" in html and "90 days left" in html
    assert "test.example/log\n" in html  # the checkpoint's origin line


def test_model_page_counts_grants_without_undisclosed_names(
    site: tuple[Register, Populated],
) -> None:
    reg, _ = site
    html = reg.client.get("/models/atlas-2-mini").text
    assert "2 active grants" in html
    assert "Agency One" in html
    assert "Quiet Partner" not in html
    assert "1 partner asked that their name stay private" in html
    for title in ("Application filed", "Decision", "Halt directive", "Restoration directive"):
        assert title in html
    assert "Usage totals for atlas-2-mini" in html


def test_model_page_shows_proceedings_with_their_clocks(
    site: tuple[Register, Populated],
) -> None:
    reg, _ = site
    html = reg.client.get("/models/atlas-2-mini").text
    section = html[html.index('id="proceedings-h"') :]
    section = section[: section.index("</section>")]
    for step in ("Act", "Hearing", "Submission", "Appeal"):
        assert f"<strong>{step}</strong>" in section
    assert "Halt (urgent): Appeal pending." in section
    assert "The appeal concerns the tier, not safety." in section
    assert "opened, after the act (urgent)" in section
    assert "due by" in section and "left" in section  # the hearing's and the panel's clocks


def test_decision_page_cites_rules_evidence_and_departure(
    site: tuple[Register, Populated],
) -> None:
    reg, made = site
    html = reg.client.get(f"/decisions/{made.decision['id']}").text
    assert "Approved with conditions" in html
    assert "<code>cyber-high</code>" in html and "Cybersecurity, level High" in html
    assert "the confidence interval straddles the threshold" in html
    digest = made.decision["reasons"][0]["evidence"][0]
    assert f'href="/evidence/{digest}"' in html and "bytes withheld" not in html
    evidence = reg.client.get(f"/evidence/{digest}").text
    assert f'href="/api/v1/evidence/{digest}"' in evidence  # public: the bytes are a link away
    assert "ctf_professional" in evidence and "How the assessor used it" in evidence
    assert reg.client.get(f"/api/v1/evidence/{digest}").status_code == 200
    assert "The applicant filed no self-assessment." in html
    assert "Departure from the assessor" not in html
    assert "clearance verify" in html and "clearance bundle" in html

    departed = reg.client.get(f"/decisions/{made.departure['id']}").text
    assert "Departure from the assessor" in departed
    assert "Named partners under monitoring pose an acceptable risk." in departed
    assert "The evaluations were filed late but exist." in departed  # the appeal


def test_directive_page_shows_grounds_scope_hearing_sunset(
    site: tuple[Register, Populated],
) -> None:
    reg, made = site
    html = reg.client.get(f"/directives/{made.directive['id']}").text
    assert "Restored to named partners while the appeal is heard." in html
    assert "Hearing date" in html and made.directive["hearing_date"][:10] in html
    assert made.directive["sunset_at"][:10] in html
    assert "Not renewed." in html
    assert "Quiet Partner" not in html


def test_framework_pages_show_tables_diff_and_impact(site: tuple[Register, Populated]) -> None:
    reg, made = site
    listing = reg.client.get("/frameworks").text
    assert "1.0.0" in listing and "1.1.0" in listing
    assert f"/frameworks/diff?old={made.old_framework}&amp;new={made.new_framework}" in listing
    version = reg.client.get(f"/frameworks/{made.old_framework}").text
    for heading in (
        "Capability domains",
        "Evaluation thresholds",
        "Safeguards",
        "Deployment tiers",
    ):
        assert heading in version
    assert "Jurisdictions" in version and "Procedure" in version
    diff = reg.client.get(
        f"/frameworks/diff?old={made.old_framework}&new={made.new_framework}"
    ).text
    assert "threshold for cbrn-high lowered from 0.6 to 0.3" in diff
    impact = diff.split('id="impact-h"', 1)[1]
    assert "atlas-2" in impact and "Approved partners" in impact and "more closed" in impact
    assert "rival-1" not in impact  # no evidence: nothing moves


def test_charts_draw_every_result_with_a_text_alternative(
    site: tuple[Register, Populated],
) -> None:
    reg, _ = site
    html = reg.client.get("/charts/cyber").text
    chart = html.split('id="chart-cyber-ctf-professional"', 1)[1].split("</figure>", 1)[0]
    assert chart.count('class="data-point"') == 1
    assert 'data-value="0.6"' in chart
    assert "<title" in chart and "<desc" in chart
    assert "atlas-2 2.0" in chart.split("<table", 1)[1]
    assert chart.count('class="threshold"') == 2  # cyber-high 0.5 and cyber-critical 0.8


def test_reports_publish_the_conflict_of_interest(site: tuple[Register, Populated]) -> None:
    reg, _ = site
    html = reg.client.get("/reports").text
    assert "Jailbreak persistence study" in html
    assert "We sell red-teaming services to a competitor of Atlas Labs." in html


def test_unknown_ids_are_html_404_pages(site: tuple[Register, Populated]) -> None:
    reg, _ = site
    for path in (
        "/models/no-such-model",
        "/decisions/dec_nope",
        "/directives/dir_nope",
        "/frameworks/" + "0" * 64,
        "/charts/no-such-domain",
        "/frameworks/diff?old=x&new=y",
    ):
        response = reg.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
        assert outline(response.text).headings.count("h1") == 1
    missing = reg.client.get("/frameworks/diff")
    assert missing.status_code == 400 and "<h1>" in missing.text


def test_queue_needs_a_signed_in_reviewer(site: tuple[Register, Populated]) -> None:
    reg, made = site
    client = reg.client
    client.cookies.clear()
    first = client.get("/queue", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/signin?next=/queue"

    wrong = client.post("/signin", data={"api_key": "clr_nope.nope", "next": "/queue"})
    assert wrong.status_code == 401 and "not valid" in wrong.text

    signed = client.post(
        "/signin",
        data={"api_key": reg.keys["dev"], "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/queue"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/queue").status_code == 403  # a developer is not a reviewer

    client.cookies.clear()
    client.post("/signin", data={"api_key": reg.keys["reviewer"], "next": "/queue"})
    queue = client.get("/queue")
    assert queue.status_code == 200
    rows = queue.text.split("<tbody>", 1)[1]
    assert rows.index(made.overdue["id"]) < rows.index(made.pending["id"])  # by deadline
    assert 'class="overdue"' in rows and "1 overdue" in queue.text
    assert "Signed in as reviewer" in queue.text

    out = client.post("/signout", follow_redirects=False)
    assert out.status_code == 303 and 'clearance_key=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_api_and_log_keep_their_json_answers(site: tuple[Register, Populated]) -> None:
    reg, _ = site
    assert reg.client.get("/api/v1/no-such-thing").json()["error"]["code"] == "not_found"
    assert reg.client.get("/log/checkpoint").text.startswith("test.example/log\n")


def test_pages_read_postgresql_too(register: Register, tmp_path: Path) -> None:
    made = populate(register)
    for path in page_paths(made):
        response = register.client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
