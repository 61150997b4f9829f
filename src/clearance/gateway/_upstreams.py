"""Where each model's calls go: an OpenAI-compatible base URL and its key, kept off the register.

Upstream keys live in the gateway's own file (`upstreams.json` in the data folder), never in the
public register: `{"model name": {"base_url": "http://host:port/v1", "api_key": "..."}}`, with
`"*"` as the default for models not listed. Without a file, every model goes to the packaged
fake upstream. A model's server named by its developer in the register (`upstream_url`), when
the file does not name the model, and its pre-release upstream (for the authority's testing
grant) are reached at the URL the register holds, with the key of an entry for the same URL
that names the model's organization (`"organization": "org_..."`): a developer who names another's
server gets no key of the other's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from clearance.errors import InvalidInput

UPSTREAMS_FILE = "upstreams.json"
DEFAULT = "*"


@dataclass(frozen=True)
class Upstream:
    """An OpenAI-compatible server: its base URL (ending in /v1) and the key it expects."""

    base_url: str
    api_key: str = ""
    organization: str | None = None
    """The organization whose models' servers this entry is, by URL (see `for_url`)."""

    def __repr__(self) -> str:
        return (
            f"Upstream(base_url={self.base_url!r}, api_key=<{len(self.api_key)} chars>, "
            f"organization={self.organization!r})"
        )


class Upstreams:
    """Model name to upstream, with a default."""

    def __init__(self, routes: dict[str, Upstream]) -> None:
        self._routes = {name: _normal(u) for name, u in routes.items()}

    def named(self, model: str) -> Upstream | None:
        """The upstream this file names for the model (not the default), or None."""
        return self._routes.get(model) if model != DEFAULT else None

    def for_model(self, model: str) -> Upstream | None:
        """The upstream for a model, or the default, or None."""
        found = self._routes.get(model)
        return found if found is not None else self._routes.get(DEFAULT)

    def for_url(self, base_url: str, organization: str) -> Upstream:
        """A server a developer named in the register, by its base URL, with the key of an entry
        for the same URL that names that developer's organization (no key otherwise: the URL
        alone must not earn a developer the key of someone else's server)."""
        url = base_url.rstrip("/")
        for upstream in self._routes.values():
            if upstream.base_url == url and upstream.organization == organization:
                return upstream
        return Upstream(url)

    def secrets(self) -> list[str]:
        """Every upstream key, so that no answer ever carries one."""
        return [u.api_key for u in self._routes.values() if len(u.api_key) >= 4]

    def with_default(self, upstream: Upstream) -> Upstreams:
        """These routes, with `upstream` for models none names (when there is no default)."""
        return Upstreams({DEFAULT: upstream, **self._routes})

    @classmethod
    def load(cls, path: Path, default: Upstream | None = None) -> Upstreams:
        """Read an upstreams file; `default` serves models the file does not name."""
        routes: dict[str, Upstream] = {}
        if default is not None:
            routes[DEFAULT] = default
        if not path.exists():
            return cls(routes)
        try:
            data = json.loads(path.read_text())
            for name, item in data.items():
                organization = item.get("organization")
                routes[name] = Upstream(
                    str(item["base_url"]),
                    str(item.get("api_key", "")),
                    None if organization is None else str(organization),
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(
                f"{path}: expected {{model: {{base_url, api_key, organization}}}} ({exc!r})"
            ) from None
        return cls(routes)


def _normal(upstream: Upstream) -> Upstream:
    return Upstream(upstream.base_url.rstrip("/"), upstream.api_key, upstream.organization)
