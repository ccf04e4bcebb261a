"""A small OpenAI-compatible server for tests: chat completions (plain and streamed), embeddings, models.

Scriptable per test: queue the next assistant messages, or errors, and read back every request it received."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

EMBEDDING_DIM = 1536


def fake_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Bag of hashed words: texts sharing words get similar vectors, so search behaves plausibly."""
    vector = np.zeros(dim)
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % dim] += 1.0 if digest[1] % 2 else -1.0
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else np.eye(dim)[0]).tolist()


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._chat_queue: deque[dict[str, Any]] = deque()
        self._error_queue: deque[tuple[str, int, Any]] = deque()
        self._refused: set[str] = set()
        self._generation = 0  # moves on with clear(): what a request that outlived it may still take
        self._scripted_for: str | None = None  # only requests with this API key take queued replies
        self._replies = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._chat_queue.clear()
            self._error_queue.clear()
            self._refused.clear()
            self._scripted_for = None
            self._generation += 1

    def script_for(self, api_key: str) -> None:
        """Queued replies and errors go only to requests bearing this API key; any other caller (a service of
        another suite still retrying in the background) gets the unscripted answer instead of taking them."""
        with self._lock:
            self._scripted_for = api_key

    def _scripted(self, authorization: str) -> bool:
        with self._lock:
            wanted = self._scripted_for
        return wanted is None or authorization == f"Bearer {wanted}"

    def refuse_embedding(self, text: str) -> None:
        """Embedding requests with an input containing `text` answer 400, as a provider refuses some content
        (too long for the model, flagged) while it embeds everything else."""
        with self._lock:
            self._refused.add(text)

    def _refuses(self, inputs: list[Any]) -> bool:
        with self._lock:
            return any(word in str(t) for t in inputs for word in self._refused)

    def queue_chat(self, message: dict[str, Any]) -> None:
        """The next chat completion answers with this assistant message ({"content": ...} or {"tool_calls": [...]})."""
        self._chat_queue.append(message)

    def queue_error(self, path_suffix: str, status: int, body: Any = None) -> None:
        """The next request whose path ends with `path_suffix` fails with this status (or sleeps if status == 0:
        body is the delay in seconds, to provoke client timeouts)."""
        self._error_queue.append((path_suffix, status, body))

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def _take_error(self, path: str):
        with self._lock:
            for i, (suffix, status, body) in enumerate(self._error_queue):
                if path.endswith(suffix):
                    del self._error_queue[i]
                    return status, body
        return None

    def _chat_message(self, body: dict[str, Any], scripted: bool) -> dict[str, Any]:
        with self._lock:
            self._replies += 1
            if self._chat_queue and scripted:
                message = dict(self._chat_queue.popleft())
            else:
                message = {"content": f"FAKE-REPLY-{self._replies} (saw {len(body.get('messages', []))} messages)"}
        message.setdefault("role", "assistant")
        message.setdefault("content", None)
        return message

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, obj: Any, status: int = 200) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, chunks: list[dict[str, Any]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                path = self.path.split("?")[0]
                with fake._lock:
                    fake.requests.append({"method": self.command, "path": path, "headers": dict(self.headers),
                                          "body": body})
                scripted = fake._scripted(self.headers.get("Authorization", ""))
                error = fake._take_error(path) if scripted else None
                if error is not None:
                    status, payload = error
                    if status == 0:
                        arrived = fake._generation
                        time.sleep(float(payload or 5))
                        # A slow answer that outlives its test (its client gave up long ago) must not take the
                        # replies the next test queued after clear().
                        scripted = scripted and fake._generation == arrived
                    elif status == 200:  # a 200 with a junk body
                        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                    else:
                        return self._reply(payload or {"error": {"message": f"fake error {status}",
                                                                  "type": "fake", "code": status}}, status)
                if path.endswith("/chat/completions"):
                    return self._chat(body or {}, scripted)
                if path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    if fake._refuses(inputs):
                        return self._reply({"error": {"message": "This input cannot be embedded", "type":
                                                      "invalid_request_error", "code": "content_refused"}}, 400)
                    return self._reply({"object": "list", "model": body.get("model"),
                                        "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(str(t))}
                                                 for i, t in enumerate(inputs)],
                                        "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                if path.endswith("/models"):
                    return self._reply({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"},
                                                                    {"id": "text-embedding-ada-002", "object": "model"}]})
                self._reply({"error": {"message": f"no fake route {path}"}}, 404)

            def _chat(self, body: dict[str, Any], scripted: bool) -> None:
                message = fake._chat_message(body, scripted)
                created, model = int(time.time()), body.get("model", "gpt-4o-mini")
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
                if not body.get("stream"):
                    return self._reply({"id": f"chatcmpl-{fake._replies}", "object": "chat.completion",
                                        "created": created, "model": model, "usage": usage,
                                        "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
                base = {"id": f"chatcmpl-{fake._replies}", "object": "chat.completion.chunk", "created": created,
                        "model": model}
                delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
                if message.get("tool_calls"):
                    delta["tool_calls"] = [{**call, "index": i} for i, call in enumerate(message["tool_calls"])]
                chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
                          {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}]
                if (body.get("stream_options") or {}).get("include_usage"):
                    chunks.append({**base, "choices": [], "usage": usage})
                self._stream(chunks)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler
