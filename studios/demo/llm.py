"""A stand-in for a hosted LLM that knows the demo sites, so the LLM path can be tried offline.

It speaks the OpenAI chat-completions protocol (``POST /v1/chat/completions``) and answers with
the strict JSON the pipeline asks for, read from ``sites.py`` for the page named in the prompt
(``Page: <url>``), the way a good model would read that page. Pages it does not know (an FAQ, an
about page) get ``is_valid: false``. Start it beside ``make run``:

    .venv/bin/python -m studios.demo.llm --port 8009
    LLM_BASE_URL=http://127.0.0.1:8009/v1 LLM_MODEL=demo make run

It imports nothing from Django, so it runs without settings.
"""

import argparse
import json
import re
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import sites

_PAGE = re.compile(r"^Page: (\S+)$", re.MULTILINE)
_WORKSHOP_PATH = re.compile(r"/demo/sites/(?P<site>[^/]+)/workshops/(?P<slug>[^/]+)/")


def _clock(value):
    """'18:30' -> '06:30 PM', as the schema asks."""
    if value is None:
        return None
    hour, minute = (int(part) for part in value.split(":"))
    return f"{(hour % 12) or 12:02d}:{minute:02d} {'PM' if hour >= 12 else 'AM'}"


def answer_for_page(studio, page, today=None):
    """The answer a careful model gives for one demo workshop page (the pipeline's JSON schema)."""
    today = today or sites.today()
    events = sites.page_events(page)
    keywords = " ".join(event.get("keywords", "") for event in events)
    event_type = "intensive" if "intensive" in keywords else "regulars" if "regulars" in keywords else "workshop"
    details = []
    for event in events:
        time_details = []
        for offset, start, end in event["sessions"]:
            day = today + timedelta(days=offset)
            time_details.append(
                {
                    "day": day.day,
                    "month": day.month,
                    "year": day.year,
                    "start_time": _clock(start),
                    "end_time": _clock(end),
                }
            )
        details.append(
            {
                "time_details": time_details,
                "by": " & ".join(p["name"] for p in event["performers"]),
                "song": event.get("song"),
                "pricing_info": "\n".join(f"{name}: ₹{price:,}" for name, price in event["offers"]) or None,
                "artist_id_list": [p["expect"][1] for p in event["performers"] if p["expect"][0] != "unmatched"],
            }
        )
    return {"is_valid": True, "event_type": event_type, "event_details": details}


def answer_for_url(url, today=None):
    match = _WORKSHOP_PATH.search(url or "")
    studio = sites.get_studio(match.group("site")) if match else None
    page = sites.get_page(studio, match.group("slug")) if studio else None
    if page is None:
        return {"is_valid": False, "event_type": "workshop", "event_details": []}
    return answer_for_page(studio, page, today)


def prompt_text(messages):
    """The text parts of a chat request's messages, joined."""
    texts = []
    for message in messages or []:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "\n".join(texts)


def chat_completion(content, model, *, refusal=None, finish_reason="stop", prompt_tokens=0, completion_tokens=0):
    """A chat.completion response body, as the OpenAI protocol has it."""
    return {
        "id": f"chatcmpl-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def completion(request_body):
    """The chat completion (a dict) answering one request body."""
    prompt = prompt_text(request_body.get("messages"))
    match = _PAGE.search(prompt)
    content = json.dumps(answer_for_url(match.group(1) if match else ""), ensure_ascii=False)
    return chat_completion(
        content,
        request_body.get("model", "demo"),
        prompt_tokens=len(prompt) // 4 + 1,
        completion_tokens=len(content) // 4 + 1,
    )


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            return self._json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
        self._json(200, completion(body))

    def _json(self, status, data):
        payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


def serve(host="127.0.0.1", port=8009):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8009)
    args = parser.parse_args(argv)
    server = serve(args.host, args.port)
    print(f"Demo LLM on http://{args.host}:{server.server_address[1]}/v1 (any model name, any key). Ctrl-C stops it.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
