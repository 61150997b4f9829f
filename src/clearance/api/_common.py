"""Small pieces every route module uses: ids, look-ups by name or id, pages."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

from fastapi import Query
from pydantic import BaseModel

from clearance.errors import NotFound
from clearance.register import ModelConfig, Organization, Record
from clearance.store import Transaction

R = TypeVar("R", bound=Record)

MAX_PAGE = 500


def new_id(prefix: str) -> str:
    """A fresh record id with a readable prefix."""
    return f"{prefix}_{secrets.token_hex(8)}"


def find_model(tx: Transaction, name_or_id: str) -> ModelConfig:
    """A model by its gateway name or its id."""
    found = tx.find_one(ModelConfig, name=name_or_id) or tx.find_one(ModelConfig, id=name_or_id)
    if found is None:
        raise NotFound(f"no model named {name_or_id!r}")
    return found


def find_organization(tx: Transaction, name_or_id: str) -> Organization:
    """An organization by its id or its name."""
    found = tx.find_one(Organization, id=name_or_id) or tx.find_one(Organization, name=name_or_id)
    if found is None:
        raise NotFound(f"no organization {name_or_id!r}")
    return found


def model_id_or_none(tx: Transaction, name_or_id: str | None) -> str | None:
    """The id of the model a list is filtered on, or None for no filter."""
    return find_model(tx, name_or_id).id if name_or_id else None


def acted(tx: Transaction, record: Record | dict[str, Any]) -> dict[str, Any]:
    """An act's answer: the record, its log entry index and where its offline bundle is.

    The index is that of the event about the record (its id), else the act's first event;
    both are null when the act logged nothing.
    """
    body = record.model_dump(mode="json") if isinstance(record, Record) else dict(record)
    return body | log_position(tx, body.get("id"))


def log_position(tx: Transaction, subject: Any = None) -> dict[str, Any]:
    """`log_index` and `bundle_url` (relative to the register) of the event about `subject`."""
    if not tx.logged:
        return {"log_index": None, "bundle_url": None}
    index = next((i for e, i in tx.logged if e.subject == subject), tx.logged[0][1])
    return {"log_index": index, "bundle_url": f"/log/bundle/{index}"}


class Page(BaseModel):
    """A page of a list: the items, and the cursor for the next page (null at the end)."""

    items: list[dict[str, Any]]
    next: str | None


def page_params(
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Items per page."),
    after: str | None = Query(None, description="The `next` cursor of the previous page."),
) -> tuple[int, str | None]:
    """Pagination parameters shared by every list."""
    return limit, after


def paginate(tx: Transaction, kind: type[R], limit: int, after: str | None, **where: Any) -> Page:
    """Records ordered by id, `limit` at a time, after a cursor."""
    items, cursor = tx.page(kind, limit, after, **where)
    return Page(items=items, next=cursor)
