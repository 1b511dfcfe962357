"""Refresh benchmark: what a second and a third run of an unchanged (then slightly changed) site cost.

    .venv/bin/python bench/refresh.py [--links 200] [--changed 5] [--llm-latency 0.25]

A local site of `--links` workshop pages (each with an ETag, answering 304 to a matching
If-None-Match) and a local OpenAI-compatible LLM stand-in (answers from the page's text after
`--llm-latency` seconds, as a hosted model takes time) serve a studio read by the LLM. Three runs
of process_studio: the first reads everything, the second finds the site unchanged, the third finds
`--changed` pages changed. Prints a Markdown table: wall time, bytes fetched, requests answered
304, LLM calls and tokens per run. Uses its own SQLite file in a temporary directory.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = """<html><head><title>Workshop {n}</title></head><body><h1>Workshop {n}</h1>
<p>Song: Song {n}. With Jane Doe. Price: {price}.</p>{filler}</body></html>"""
FILLER = "<p>" + "Studio news, directions, what to wear and bring. " * 40 + "</p>"


class Site:
    def __init__(self, links: int):
        self.prices = dict.fromkeys(range(1, links + 1), "Rs 1000")
        self.not_modified = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                match = re.fullmatch(r"/w/(\d+)/", self.path)
                if self.path == "/":
                    body = "".join(f'<a href="/w/{n}/">{n}</a>' for n in site.prices).encode()
                    etag = None
                elif match and int(match.group(1)) in site.prices:
                    n = int(match.group(1))
                    body = PAGE.format(n=n, price=site.prices[n], filler=FILLER).encode()
                    etag = f'"{n}-{site.prices[n].replace(" ", "")}"'
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if etag and self.headers.get("If-None-Match") == etag:
                    site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class LLM:
    """The OpenAI chat-completions protocol, answering from the page text in the prompt."""

    def __init__(self, latency: float):
        from studios.demo.llm import chat_completion, prompt_text

        self.calls = 0
        day = date.today() + timedelta(days=30)
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                text = prompt_text(body.get("messages"))
                time.sleep(latency)
                song, price = re.search(r"Song: ([^.]+)\.", text), re.search(r"Price: ([^\n]+?)\.", text)
                content = {
                    "is_valid": bool(song),
                    "event_type": "workshop",
                    "event_details": [
                        {
                            "time_details": [
                                {
                                    "day": day.day,
                                    "month": day.month,
                                    "year": day.year,
                                    "start_time": "07:00 PM",
                                    "end_time": None,
                                }
                            ],
                            "by": "Jane Doe",
                            "song": song.group(1) if song else None,
                            "pricing_info": price.group(1) if price else None,
                            "artist_id_list": [],
                        }
                    ]
                    if song
                    else [],
                }
                llm.calls += 1
                reply = json.dumps(
                    chat_completion(
                        json.dumps(content), body.get("model"), prompt_tokens=len(text) // 4, completion_tokens=60
                    )
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class QuietReporter:
    def log(self, level, message):
        pass

    def progress(self, current, total, message=""):
        pass

    def should_stop(self):
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--changed", type=int, default=5)
    parser.add_argument("--llm-latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="bench-refresh-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
        FETCH_ALLOW_PRIVATE="1",
        LLM_MODEL="bench-model",
        LLM_API_KEY="bench",
        LOG_LEVEL="WARNING",
        FETCH_PER_HOST_CONCURRENCY=str(args.concurrency),
    )
    site, llm = Site(args.links), LLM(args.llm_latency)
    os.environ["LLM_BASE_URL"] = llm.url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from streaming.models import Run
    from studios.models import Studio
    from studios.pipeline.process import process_studio

    studio = Studio.objects.create(
        studio_id="bench",
        name="Bench",
        website=site.url,
        link_pattern="/w/",
        extraction="llm",
        concurrency=args.concurrency,
    )
    rows = []
    for label in ("first run", "second run, unchanged", f"third run, {args.changed} pages changed"):
        if label.startswith("third"):
            for n in range(1, args.changed + 1):
                site.prices[n] = "Rs 1200"
        site.not_modified, llm.calls = 0, 0
        run = Run.objects.create(job="process_studio", subject="bench", status="succeeded")
        started = time.perf_counter()
        summary = process_studio(Studio.objects.get(pk=studio.pk), QuietReporter(), run=run)
        wall = time.perf_counter() - started
        fetch, tokens = summary["fetch"], summary["llm_tokens"]
        rows.append(
            (
                label,
                wall,
                fetch["bytes"],
                fetch["requests"],
                fetch["not_modified"],
                llm.calls,
                tokens["total_tokens"],
                summary["workshops_created"],
                summary["workshops_updated"],
                summary["workshops_unchanged"],
            )
        )
    first = rows[0][1]
    print(f"{args.links} links, LLM latency {args.llm_latency:g}s, {args.concurrency} links at once\n")
    print(
        "| run | wall time | bytes fetched | requests | answered 304 | LLM calls | LLM tokens | created / updated / unchanged |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, wall, size, requests, not_modified, calls, tokens, created, updated, unchanged in rows:
        share = f" ({wall / first:.0%})" if wall is not first else ""
        print(
            f"| {label} | {wall:.2f} s{share} | {size:,} | {requests} | {not_modified} ({not_modified / args.links:.0%}) "
            f"| {calls} | {tokens:,} | {created} / {updated} / {unchanged} |"
        )


if __name__ == "__main__":
    main()
