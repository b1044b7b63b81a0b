"""A webhook receiver for the alert-path tests: records every POST, Alertmanager's or Grafana's."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Listens on `host` (0.0.0.0 when containers must reach it over the Docker bridge)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.received: list[tuple[str, dict]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def firing(self) -> set[tuple[str, str, str]]:
        """(path, alertname, severity) of every firing alert received."""
        return {
            (path, alert["labels"].get("alertname", ""), alert["labels"].get("severity", ""))
            for path, body in self.received
            for alert in body.get("alerts", [])
            if alert.get("status") == "firing"
        }

    def alertnames(self, path: str) -> set[str]:
        return {name for p, name, _ in self.firing() if p == path}

    def close(self) -> None:
        self.server.shutdown()
