"""A local stand-in for a hosted model: the OpenAI chat-completions protocol on 127.0.0.1.

It checks every request the way the pipeline must send it (the model, a strict ``json_schema``
response format with the original system's schema, the known artists in the prompt, a screenshot
part when one is expected) and answers with prepared replies, in order. Whatever it found wrong is
kept in ``problems`` (and answered with HTTP 400), which the fixture asserts empty.
"""

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from studios.demo.llm import chat_completion
from studios.demo.llm import prompt_text as demo_prompt_text

MODEL = "test-model"
API_KEY = "test-key"

# The schema of the original system, written out independently of the code under test: a change to
# the contract has to change this file too.
_CLOCK = {"type": ["string", "null"]}
EXPECTED_SCHEMA = {
    "type": "object",
    "properties": {
        "is_valid": {"type": "boolean"},
        "event_type": {"type": "string", "enum": ["workshop", "intensive", "regulars"]},
        "event_details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "time_details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "day": {"type": "integer"},
                                "month": {"type": "integer"},
                                "year": {"type": "integer"},
                                "start_time": _CLOCK,
                                "end_time": _CLOCK,
                            },
                            "required": ["day", "month", "year", "start_time", "end_time"],
                            "additionalProperties": False,
                        },
                    },
                    "by": {"type": "string"},
                    "song": {"type": ["string", "null"]},
                    "pricing_info": {"type": ["string", "null"]},
                    "artist_id_list": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["time_details", "by", "song", "pricing_info", "artist_id_list"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["is_valid", "event_type", "event_details"],
    "additionalProperties": False,
}


def without_descriptions(value):
    if isinstance(value, dict):
        return {k: without_descriptions(v) for k, v in value.items() if k not in ("description", "title")}
    if isinstance(value, list):
        return [without_descriptions(v) for v in value]
    return value


@dataclass
class Reply:
    status: int = 200
    body: object = None  # a dict is sent as JSON, bytes/str as they are
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


def completion(content=None, *, refusal=None, finish_reason="stop", prompt_tokens=120, completion_tokens=30):
    """A chat.completion reply whose message carries `content` (a dict is sent as its JSON text)."""
    if isinstance(content, dict):
        content = json.dumps(content)
    return Reply(
        body=chat_completion(
            content,
            MODEL,
            refusal=refusal,
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    )


def error(status, message="error", headers=None):
    return Reply(status=status, body={"error": {"message": message, "type": "server_error"}}, headers=headers or {})


def answer(*details, is_valid=True, event_type="workshop"):
    return {"is_valid": is_valid, "event_type": event_type, "event_details": list(details)}


def detail(*times, by="", song=None, pricing_info=None, artist_id_list=()):
    return {
        "time_details": list(times),
        "by": by,
        "song": song,
        "pricing_info": pricing_info,
        "artist_id_list": list(artist_id_list),
    }


def when(day, start=None, end=None):
    """A time_details entry for a date: when(date(2031, 5, 4), "06:30 PM", "08:30 PM")."""
    return {"day": day.day, "month": day.month, "year": day.year, "start_time": start, "end_time": end}


def prompt_text(body):
    return demo_prompt_text(body.get("messages"))


def image_parts(body):
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            parts.extend(p for p in content if isinstance(p, dict) and p.get("type") == "image_url")
    return parts


class FakeOpenAI:
    """Replies are served in order (`replies`); once they run out, `responder(body)` answers."""

    def __init__(self):
        self.replies: list[Reply] = []
        self.responder = None
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.expect_image: bool | None = False
        self.expect_artist_ids: list[str] = []
        self.usage_served = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                reply = fake._handle(self.path, dict(self.headers), body)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload)
                payload = payload.encode() if isinstance(payload, str) else (payload or b"")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def add(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def _handle(self, path, headers, body) -> Reply:
        with self._lock:
            self.requests.append(body)
            problems = self._check(path, headers, body)
            self.problems.extend(problems)
            if problems:
                return error(400, "; ".join(problems))
            if self.replies:
                reply = self.replies.pop(0)
            elif self.responder is not None:
                reply = self.responder(body)
            else:
                self.problems.append("a request arrived with no reply prepared")
                return error(400, "no reply prepared")
            usage = reply.body.get("usage") if isinstance(reply.body, dict) else None
            if usage and reply.status == 200:
                for key in self.usage_served:
                    self.usage_served[key] += usage[key]
            return reply

    def _check(self, path, headers, body) -> list[str]:
        problems = []
        if path != "/v1/chat/completions":
            problems.append(f"POST to {path}, not /v1/chat/completions")
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization")
        if auth != f"Bearer {API_KEY}":
            problems.append(f"Authorization header {auth!r}")
        if body.get("model") != MODEL:
            problems.append(f"model {body.get('model')!r}, not {MODEL!r}")
        response_format = body.get("response_format") or {}
        schema = response_format.get("json_schema") or {}
        if response_format.get("type") != "json_schema" or schema.get("strict") is not True:
            problems.append(f"response_format is not a strict json_schema: {response_format!r:.200}")
        elif without_descriptions(schema.get("schema")) != EXPECTED_SCHEMA:
            problems.append("the json_schema is not the original system's shape")
        messages = body.get("messages") or []
        if [m.get("role") for m in messages] != ["system", "user"]:
            problems.append(f"roles {[m.get('role') for m in messages]}")
        text = prompt_text(body)
        for artist_id in self.expect_artist_ids:
            if artist_id not in text:
                problems.append(f"artist {artist_id} missing from the prompt")
        images = image_parts(body)
        if self.expect_image is True:
            urls = [p.get("image_url", {}).get("url", "") for p in images]
            if len(urls) != 1 or not urls[0].startswith("data:image/png;base64,"):
                problems.append(f"expected one PNG data URL image part, got {len(urls)}")
            elif not base64.b64decode(urls[0].split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n"):
                problems.append("the image part is not a PNG")
        elif self.expect_image is False and images:
            problems.append("an image part was sent although screenshots are off")
        return problems

    def close(self):
        self.server.shutdown()
        self.server.server_close()
