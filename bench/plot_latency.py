"""p99 delivery latency against the number of watchers, from bench/live_delivery.py's results.

bench/.peer-venv/bin/python bench/plot_latency.py results.json docs/live-delivery-p99.png
"""

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

source, target = sys.argv[1], sys.argv[2]
results = json.loads(sys.stdin.read() if source == "-" else Path(source).read_text())
ns = results["config"]["watchers"]
fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
for side, style in (("project", "o-"), ("peer", "s--")):
    medians = [
        statistics.median(
            rep[side]["delivery"][str(n) if str(n) in rep[side]["delivery"] else n]["latency"]["p99"] * 1000
            for rep in results["reps"]
        )
        for n in ns
    ]
    ax.plot(ns, medians, style, label=f"{side} (median of {len(results['reps'])})")
pushpin = results.get("pushpin") or {}
if "latency" in pushpin:
    ax.plot(
        [pushpin["clients"]], [pushpin["latency"]["p99"] * 1000], "^", markersize=9, label="project through Pushpin"
    )
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("watchers of one run (N)")
ax.set_ylabel("delivery latency p99 (ms)")
ax.set_title(f"{results['config']['events']} events, {results['config']['interval_s'] * 1000:.0f} ms apart")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(target)
print(f"wrote {target}")
