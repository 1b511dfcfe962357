"""The peer of bench/live_delivery.py: Starlette + sse-starlette on uvicorn (one worker).

It serves the same URLs and the same frames as the project, from memory: a run is a list of
events and an asyncio.Event that wakes its streams; publishing appends and wakes them. What it
leaves out (a database, authentication, a job executor, Redis) is what the comparison measures.

    bench/.peer-venv/bin/python -m uvicorn peer_app:app --app-dir bench --port 8001

Bench-only endpoints under /bench/ create runs, publish paced events and report publish cost.
"""

import asyncio
import itertools
import json
import time

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

# As the project opens its streams: padding past proxies' buffers, then `stream-open`.
STREAM_OPEN = ":" + " " * 2048 + "\n\nevent: stream-open\ndata:\n\n"


def envelope(event_type, data):
    return json.dumps({"type": event_type, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "data": data})


class PeerRun:
    def __init__(self, run_id):
        self.run_id = run_id
        self.events = []  # (seq, type, data)
        self.more = asyncio.Event()
        self.finished = False

    def publish(self, event_type, data):
        started = time.perf_counter()
        self.events.append((len(self.events) + 1, event_type, envelope(event_type, data)))
        if event_type == "complete":
            self.finished = True
        woken, self.more = self.more, asyncio.Event()
        woken.set()
        publish_costs.append(time.perf_counter() - started)


runs: dict[int, PeerRun] = {}
active_by_subject: dict[str, PeerRun] = {}
run_ids = itertools.count(1)
publish_costs: list[float] = []


def new_run():
    run = PeerRun(next(run_ids))
    runs[run.run_id] = run
    return run


async def frames(run, after=0):
    yield {"comment": " " * 2048}
    yield {"event": "stream-open", "data": ""}
    position = after
    while True:
        while position < len(run.events):
            seq, event_type, data = run.events[position]
            position += 1
            yield {"id": f"run-{run.run_id}:{seq}", "event": event_type, "data": data}
            if event_type == "complete":
                return
        waiting = run.more
        if position >= len(run.events):
            await waiting.wait()


def sse(run):
    # No pings: the project sends its keep-alive after 20 quiet seconds, which no scenario reaches.
    return EventSourceResponse(frames(run), ping=3600, sep="\n", headers={"X-Run-Id": str(run.run_id)})


async def run_events(request):
    run = runs.get(int(request.path_params["run_id"]))
    if run is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return sse(run)


async def paced(run, count, interval, first_at=None):
    """`count` log events at `interval` seconds, each carrying its seq and send time, then `complete`."""
    start = time.monotonic() if first_at is None else first_at
    for seq in range(1, count + 1):
        delay = start + (seq - 1) * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        run.publish("logs", {"message": f"m={seq}:{time.monotonic():.6f}", "level": "info"})
    run.publish(
        "complete", {"message": "Process completed", "run_id": run.run_id, "status": "succeeded", "summary": {}}
    )


async def refresh_workshops(request):
    """Like the project's start endpoint: start (or join) the subject's run and stream it.

    The run's events mimic a demo studio's run: a first log at once, then 26 more 20 ms apart.
    """
    subject = (await request.json()).get("studio_id", "")
    run = active_by_subject.get(subject)
    if run is None or run.finished:
        run = active_by_subject[subject] = new_run()
        run.task = asyncio.get_running_loop().create_task(paced(run, 26, 0.02))
    return sse(run)


async def bench_create(request):
    return JSONResponse({"run_id": new_run().run_id})


async def bench_publish(request):
    """Publish paced events to an existing run, in the background (?count=&interval=)."""
    run = runs[int(request.path_params["run_id"])]
    count, interval = int(request.query_params["count"]), float(request.query_params["interval"])
    run.task = asyncio.get_running_loop().create_task(paced(run, count, interval))
    return JSONResponse({"run_id": run.run_id})


async def bench_wait(request):
    """Answers once the run's publisher is done (bounded by ?timeout=)."""
    run = runs[int(request.path_params["run_id"])]
    try:
        await asyncio.wait_for(asyncio.shield(run.task), float(request.query_params.get("timeout", 120)))
    except TimeoutError:
        return JSONResponse({"done": False})
    return JSONResponse({"done": True})


async def bench_finished(request):
    """A finished run of ?count= log events and `complete`, for replay."""
    run = new_run()
    for seq in range(1, int(request.query_params["count"]) + 1):
        run.publish("logs", {"message": f"m={seq}:{time.monotonic():.6f}", "level": "info"})
    run.publish(
        "complete", {"message": "Process completed", "run_id": run.run_id, "status": "succeeded", "summary": {}}
    )
    return JSONResponse({"run_id": run.run_id})


async def bench_costs(request):
    """The publish costs (seconds) recorded since the last call, and forgets them."""
    costs = publish_costs[:]
    publish_costs.clear()
    return JSONResponse({"costs": costs})


async def bench_end(request):
    """Ends an idle run (a `complete`), so that its streams close."""
    run = runs[int(request.path_params["run_id"])]
    if not run.finished:
        run.publish(
            "complete", {"message": "Process completed", "run_id": run.run_id, "status": "succeeded", "summary": {}}
        )
    return JSONResponse({"run_id": run.run_id})


async def healthz(request):
    return JSONResponse({"ok": True})


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/api/runs/{run_id:int}/events/", run_events),
        Route("/api/streaming/refresh-workshops", refresh_workshops, methods=["POST"]),
        Route("/bench/runs", bench_create, methods=["POST"]),
        Route("/bench/runs/{run_id:int}/publish", bench_publish, methods=["POST"]),
        Route("/bench/runs/{run_id:int}/wait", bench_wait),
        Route("/bench/runs/{run_id:int}/end", bench_end, methods=["POST"]),
        Route("/bench/finished", bench_finished, methods=["POST"]),
        Route("/bench/costs", bench_costs, methods=["POST"]),
    ]
)
