"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (a free port) that
verifies every delivery with the ``standardwebhooks`` library, as a customer's receiver
would, and records what it got."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HANG = "hang"  # a scripted answer: hold the request until ``release()`` (or 30 s)


@dataclass(frozen=True)
class Received:
    webhook_id: str
    verified: bool  # the signature matched one of the receiver's secrets
    body: dict
    headers: dict
    received_at: float  # time.time()

    @property
    def type(self) -> str:
        return self.body.get("type", "")


class Receiver:
    """``script`` lists the answers to give, in order (status codes or ``HANG``); once it
    is spent every request gets ``default``. ``secrets`` are the signing secrets the
    receiver knows (any one verifying is enough)."""

    def __init__(self):
        self.secrets: list[str] = []
        self.script: list = []
        self.default = 200
        self.answer_body = b""  # what to answer instead of "answer <status>"
        self.received: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver._record(data.decode(), dict(self.headers.items()))
                if answer == HANG:
                    receiver.released.wait(timeout=30)
                    answer = 200
                try:
                    self.send_response(answer)
                    if 300 <= answer < 400:
                        self.send_header("Location", f"{receiver.url}/elsewhere")
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(receiver.answer_body or f"answer {answer}".encode())
                except OSError:
                    pass  # the sender is gone (killed worker)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _verified(self, data: str, headers: dict) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(data, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def _record(self, data: str, headers: dict):
        verified = self._verified(data, headers)
        lowered = {key.lower(): value for key, value in headers.items()}
        with self._lock:
            self.received.append(
                Received(
                    lowered.get("webhook-id", ""), verified, json.loads(data), lowered, time.time()
                )
            )
            return self.script.pop(0) if self.script else self.default

    def of_type(self, event_type: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.type == event_type]

    def ids(self, event_type: str | None = None) -> set[str]:
        with self._lock:
            return {
                item.webhook_id
                for item in self.received
                if event_type is None or item.type == event_type
            }

    def release(self) -> None:
        self.released.set()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
