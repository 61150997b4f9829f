"""Write docs/api.md from the REST API's OpenAPI description: python scripts/make_api_docs.py"""

from __future__ import annotations

from pathlib import Path

from clearance.api import Context, create_app
from clearance.api._docs import openapi_markdown
from clearance.store import Store, make_engine

ROOT = Path(__file__).resolve().parents[1]


def generate() -> str:
    """The reference as the code describes it now."""
    store = Store(make_engine("sqlite://"))
    text = openapi_markdown(create_app(Context(store)).openapi())
    store.engine.dispose()
    return text


if __name__ == "__main__":
    (ROOT / "docs" / "api.md").write_text(generate())
    print(f"wrote {ROOT / 'docs' / 'api.md'}")
