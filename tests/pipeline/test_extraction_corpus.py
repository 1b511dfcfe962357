"""The corpus of pages written like real sites write them, scored as bench/extraction_corpus.py scores it."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "extraction_corpus.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("extraction_corpus", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_score(capsys):
    totals = load_bench().run(mode="structured")
    assert totals["raised"] == 0, "no page raises"
    assert totals["past_kept"] == 0, "no past event kept as upcoming"
    assert totals["extra"] == 0, "no duplicate or undated event kept"
    # Two pages date their event without a time in the markup and print the time in the text:
    # only the LLM (auto mode) can read those, so structured extraction misses their start times.
    assert (totals["right"], totals["events"]) == (43, 45), capsys.readouterr().out
