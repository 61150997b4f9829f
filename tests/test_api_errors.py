"""One JSON error shape everywhere in the REST API, pinned here (after datasette's test)."""

from __future__ import annotations

from typing import Any

from clearance.examples import example_path
from tests.register_fixtures import Register
from tests.test_register_lifecycle import file_application

SHAPE = {"status", "code", "message", "field"}


def assert_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == SHAPE
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    return error


def test_unknown_route(register: Register) -> None:
    assert_shape(register.call(None, "GET", "/no-such-thing"), 404, "not_found")


def test_unknown_id(register: Register) -> None:
    error = assert_shape(register.call(None, "GET", "/applications/app_nope"), 404, "not_found")
    assert "app_nope" in error["message"]


def test_wrong_method(register: Register) -> None:
    assert_shape(register.call(None, "DELETE", "/models"), 405, "method_not_allowed")


def test_invalid_body_names_the_field(register: Register) -> None:
    response = register.call(
        "dev", "POST", "/models", json={"name": "m", "version": "1", "weights_digest": "xyz"}
    )
    error = assert_shape(response, 422, "invalid_input")
    assert error["field"] == "weights_digest"


def test_malformed_json(register: Register) -> None:
    response = register.call(
        "dev", "POST", "/models", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_shape(response, 422, "invalid_input")


def test_unknown_field_is_refused(register: Register) -> None:
    body = {"name": "m", "version": "1", "weights_digest": "ab" * 32, "colour": "red"}
    error = assert_shape(register.call("dev", "POST", "/models", json=body), 422, "invalid_input")
    assert error["field"] == "colour"


def test_missing_key(register: Register) -> None:
    response = register.call(None, "POST", "/models", json={})
    assert_shape(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_forbidden_role(register: Register) -> None:
    body = {"name": "x", "kind": "partner", "jurisdiction": "FR"}
    assert_shape(register.call("dev", "POST", "/organizations", json=body), 403, "forbidden")


def test_forbidden_transition(register: Register) -> None:
    app_id = file_application(register)["id"]
    response = register.call(
        "reviewer",
        "POST",
        f"/applications/{app_id}/information-requests",
        json={"question": "?"},
    )
    error = assert_shape(response, 409, "conflict")
    assert "not assigned" in error["message"]


def test_bad_framework_upload(register: Register) -> None:
    response = register.call("admin", "POST", "/frameworks", content=b"id: [\n")
    error = assert_shape(response, 422, "invalid_input")
    assert "not valid YAML" in error["message"]
    impossible = example_path().read_text().replace("2026-06-01", "2026-02-30", 1)
    response = register.call("admin", "POST", "/frameworks", content=impossible.encode())
    error = assert_shape(response, 422, "invalid_input")
    assert error["message"].startswith("framework:20:17: 2026-02-30 is not a valid date")


def test_bad_evidence_upload(register: Register) -> None:
    response = register.call("dev", "POST", "/evidence?name=x.eval", content=b"garbage")
    error = assert_shape(response, 422, "evidence_refused")
    assert "x.eval" in error["message"]


def test_openapi_lists_the_api(register: Register) -> None:
    spec = register.client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in (
        "/api/v1/models/{name}/status",
        "/api/v1/applications",
        "/api/v1/directives",
        "/api/v1/access-requests",
        "/api/v1/reports",
        "/api/v1/events",
    ):
        assert path in paths
    assert spec["paths"]["/api/v1/directives"]["post"]["requestBody"]


def test_an_unexpected_error_is_one_json_500_and_one_logged_traceback(
    register: Register, caplog: Any
) -> None:
    """The handler logs the traceback with the request and answers 500; Starlette's re-raise of
    it (for the server to log again) stops at the app, so the traceback is logged once."""
    import logging

    from fastapi import FastAPI

    app = register.client.app
    while not isinstance(app, FastAPI):
        app = app.app  # type: ignore[attr-defined]

    def boom() -> None:
        raise RuntimeError("a defect, for this test")

    app.add_api_route("/api/v1/test-boom", boom, methods=["GET"])
    with caplog.at_level(logging.ERROR):
        # the test client raises what reaches the server (raise_server_exceptions)
        answer = register.client.get("/api/v1/test-boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "a defect" not in answer.text  # nothing of the exception in the answer
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1
    assert tracebacks[0].getMessage() == "unexpected error on GET /api/v1/test-boom"
