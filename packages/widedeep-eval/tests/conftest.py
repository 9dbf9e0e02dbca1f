"""Fixtures: an OpenAI-compatible stub server on 127.0.0.1 (the only network the tests use)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures


REVIEW = "Evaluation evidence: ok.\nScore of Assistant 1: 7\nScore of Assistant 2: 4"


class Server:
    """Serves /v1/chat/completions; ``script`` is a list of actions for the next requests, then "ok".

    An action is "ok", "drop" (close without a reply), an HTTP status (sent with ``Retry-After: 0``) or
    ``(status, retry_after_header)``. ``delay`` seconds pass before every reply (a slow server).
    """

    review = REVIEW

    def __init__(self):
        self.script, self.requests, self.delay = [], [], 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append((self.path, dict(self.headers), body))
                action = owner.script.pop(0) if owner.script else "ok"
                time.sleep(owner.delay)
                if action == "drop":  # close the socket without any reply
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(action, (int, tuple)):
                    status, retry_after = action if isinstance(action, tuple) else (action, "0")
                    self.send_response(status)
                    self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                reply = {
                    "choices": [
                        {"index": i, "message": {"role": "assistant", "content": REVIEW}}
                        for i in range(body["n"])
                    ],
                    "usage": {"prompt_tokens": 31, "completion_tokens": 12, "total_tokens": 43},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with Server() as s:
        yield s


@pytest.fixture
def dead_url():
    """The URL of a server that has just shut down (connections are refused)."""
    with Server() as s:
        url = s.url
    return url
