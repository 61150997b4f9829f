"""The lab's webhook receiver in the demo: checks each notice's signature and keeps what it said.

It stands for the system a lab would run to hear of every act that touches it. It verifies the
Standard Webhooks signature of each delivery, answers 204, and writes every delivery (headers and
body, as received) to `webhooks/<name>.jsonl` in the data folder, next to the endpoint's secret,
so that anyone can verify them again with another implementation.
"""

from __future__ import annotations

import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from clearance.server._datadir import write_private
from clearance.store import sign


@dataclass
class Receiver:
    """A loopback HTTP server that receives one organization's notices."""

    folder: Path
    name: str
    secret: str = ""
    notices: list[dict[str, Any]] = field(default_factory=list)
    forged: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where notices are to be posted."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/clearance-notices"

    def start(self) -> None:
        """Listen on a free loopback port, in a background thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                accepted = receiver.receive(headers, body)
                self.send_response(204 if accepted else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.folder.mkdir(parents=True, exist_ok=True)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def keep_secret(self, secret: str) -> None:
        """The endpoint's signing secret, shown once when it was registered."""
        self.secret = secret
        write_private(self.folder / f"{self.name}.secret", secret + "\n")

    def receive(self, headers: dict[str, str], body: bytes) -> bool:
        """Verify a delivery's signature; keep it when it is genuine."""
        try:
            expected = sign(
                self.secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body
            )
        except (KeyError, ValueError):
            return False
        offered = headers.get("webhook-signature", "").split(" ")
        if not any(hmac.compare_digest(expected, signature) for signature in offered):
            with self._lock:
                self.forged += 1
            return False
        with self._lock:
            self.notices.append(json.loads(body))
            with (self.folder / f"{self.name}.jsonl").open("a") as log:
                log.write(json.dumps({"headers": headers, "body": body.decode()}) + "\n")
        return True
