"""Score the extractor on a corpus of pages (by default the one under tests/fixtures/extraction/).

    .venv/bin/python bench/extraction_corpus.py [--corpus PATH] [--mode structured] [--verbose]

Each page goes through what `manage.py extract_page --json` does (studios.pipeline.preview), with
the page's zone and the corpus' fixed day as today, and is compared with the events read from it
by hand (expected.json: title, first day, start time). Prints the score: upcoming events right
out of all expected, past events kept, extra events kept (not expected: a duplicate, an undated
event), and pages that raised.
"""

import argparse
import json
import os
import sys
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "extraction"
sys.path.insert(0, str(ROOT))


def _key(title: str) -> str:
    text = unicodedata.normalize("NFKD", title or "").casefold()
    kept = "".join(c for c in text if c.isalnum() or c.isspace())
    return " ".join(kept.split())


def page_events(corpus: Path, name: str, spec: dict[str, Any], today: date, mode: str) -> dict[str, Any]:
    """The `extract_page --json` object for one corpus page."""
    from studios.pipeline.fetch import Page
    from studios.pipeline.preview import preview_page

    url = spec.get("url") or f"https://corpus.example/{name}"
    html = (corpus / name).read_text(encoding="utf-8")
    page = Page(url=url, final_url=url, status=200, content_type="text/html", text=html)
    return preview_page(page, today=today, time_zone=spec.get("time_zone") or "UTC", mode=mode, artists=()).as_json()


def score_page(spec: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    """Expected events found (title, first day and start time all right), past ones kept, extras."""
    kept = [
        (_key(e["title"]), e["sessions"][0]["date"] if e["sessions"] else None,
         (e["sessions"][0]["start_time"] or "")[:5] or None if e["sessions"] else None)
        for e in output["events"]
    ]  # fmt: skip
    unclaimed = list(kept)
    right, wrong = 0, []
    for expected in spec["events"]:
        want = (_key(expected["title"]), expected["date"], expected["start_time"])
        if want in unclaimed:
            unclaimed.remove(want)
            right += 1
        else:
            wrong.append(expected)
    past_titles = {_key(p["title"]) for p in spec.get("past", [])}
    past_kept = [k for k in unclaimed if k[0] in past_titles]
    extra = [k for k in unclaimed if k[0] not in past_titles and not any(_key(w["title"]) == k[0] for w in wrong)]
    return {"right": right, "wrong": wrong, "past_kept": len(past_kept), "extra": extra}


def run(mode: str = "structured", verbose: bool = False, corpus: Path = CORPUS) -> dict[str, Any]:
    expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))
    today = date.fromisoformat(expected["today"])
    totals = {"pages": 0, "events": 0, "right": 0, "past_kept": 0, "extra": 0, "raised": 0}
    for name, spec in expected["pages"].items():
        totals["pages"] += 1
        totals["events"] += len(spec["events"])
        try:
            output = page_events(corpus, name, spec, today, mode)
        except Exception as exc:  # counted, not fatal: the score says how many pages raised
            totals["raised"] += 1
            print(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        result = score_page(spec, output)
        totals["right"] += result["right"]
        totals["past_kept"] += result["past_kept"]
        totals["extra"] += len(result["extra"])
        if verbose or result["wrong"] or result["past_kept"] or result["extra"]:
            print(f"{name}: {result['right']}/{len(spec['events'])} right")
            for missed in result["wrong"]:
                print(f"    missed {missed['title']!r} {missed['date']} {missed['start_time']}")
            if result["past_kept"]:
                print(f"    kept {result['past_kept']} past event(s)")
            for extra in result["extra"]:
                print(f"    extra {extra}")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a folder of pages and their expected.json")
    parser.add_argument("--mode", default="structured", choices=["structured", "auto"])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    totals = run(args.mode, args.verbose, args.corpus.resolve())
    share = totals["right"] / totals["events"] if totals["events"] else 0.0
    print(
        f"\n{totals['pages']} pages: {totals['right']}/{totals['events']} upcoming events right ({share:.0%}), "
        f"{totals['past_kept']} past kept, {totals['extra']} extra kept, {totals['raised']} pages raising"
    )


if __name__ == "__main__":
    main()
