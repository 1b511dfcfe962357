"""Many SSE clients in one process, cheap per frame, for bench/live_delivery.py (standard library only).

    python bench/sse_load.py '<json spec>'

Each client sends one HTTP/1.0 request (so the body comes unchunked and ends with the connection)
and reads frames with one regex pass over what arrived. Log events carry `m=<seq>:<send time>` in
their message (send time on the monotonic clock, which every process of the machine shares), so
the client measures delivery latency and notices lost, duplicated and out-of-order events.

Prints JSON lines: {"opened": n, "failed": n} once every client's stream is open (or failed), then
{"result": {...}} when every stream ended (after `complete`) or the time limit ran out. In
"idle" mode it only opens the streams and holds them until stdin closes or the time limit.
"""

import asyncio
import json
import re
import sys
import time

MARK = re.compile(rb"m=(\d+):(\d+\.\d+)")


class Client(asyncio.Protocol):
    def __init__(self, load, request, started):
        self.load = load
        self.request = request
        self.transport = None
        self.head = b""
        self.buffer = b""
        self.status = None
        self.opened = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()
        self.started = started
        self.first_log = None
        self.seen = set()
        self.highest = 0
        self.duplicated = 0
        self.out_of_order = 0
        self.complete = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        if self.status is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self.head.split(b" ", 2)[1])
            data, self.head = self.head[end + 4 :], b""
            if self.status != 200:
                self._fail(f"HTTP {self.status}")
                return
        self.buffer += data
        end = self.buffer.rfind(b"\n\n")
        if end < 0:
            return
        chunk, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        now = time.monotonic()
        if not self.opened.done() and b"stream-open" in chunk:
            self.opened.set_result(True)
        if self.first_log is None and b"event: logs" in chunk:
            self.first_log = now - self.started
        latencies, worst = self.load.latencies, self.load.worst
        for match in MARK.finditer(chunk):
            seq = int(match[1])
            latency = now - float(match[2])
            latencies.append(latency)
            if latency > worst.get(seq, 0.0):
                worst[seq] = latency
            if seq in self.seen:
                self.duplicated += 1
                continue
            if seq < self.highest:
                self.out_of_order += 1
            else:
                self.highest = seq
            self.seen.add(seq)
        if b"event: complete" in chunk:
            self.complete = True
            self.transport.close()

    def _fail(self, reason):
        self.load.errors[reason] = self.load.errors.get(reason, 0) + 1
        if not self.opened.done():
            self.opened.set_result(False)
        self.transport.close()

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_result(False)
        if not self.ended.done():
            self.ended.set_result(None)


class Load:
    def __init__(self, spec):
        self.spec = spec
        self.latencies = []
        self.worst = {}  # seq -> the longest any client waited for it
        self.errors = {}
        headers = "".join(f"{name}: {value}\r\n" for name, value in spec.get("headers", {}).items())
        body = spec.get("body", "").encode()
        if body:
            headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.request = (
            f"{spec.get('method', 'GET')} {spec['path']} HTTP/1.0\r\nHost: {spec['host']}:{spec['port']}\r\n"
            f"Accept: text/event-stream\r\n{headers}\r\n"
        ).encode() + body

    async def open_one(self, index, gate):
        loop = asyncio.get_running_loop()
        sources = self.spec.get("sources") or [None]
        source = sources[index % len(sources)]
        async with gate:
            started = time.monotonic()
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Client(self, self.request, started),
                        self.spec["host"],
                        self.spec["port"],
                        local_addr=(source, 0) if source else None,
                    ),
                    timeout=30,
                )
            except (OSError, TimeoutError) as exc:
                self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
                return None
            try:
                await asyncio.wait_for(asyncio.shield(client.opened), timeout=60)
            except TimeoutError:
                self.errors["open timeout"] = self.errors.get("open timeout", 0) + 1
            return client

    async def run(self):
        count, timeout = self.spec["count"], self.spec.get("timeout", 300)
        gate = asyncio.Semaphore(self.spec.get("concurrency", count))
        started = time.monotonic()
        clients = [c for c in await asyncio.gather(*(self.open_one(i, gate) for i in range(count))) if c]
        opened = [c for c in clients if c.opened.done() and c.opened.result()]
        emit(
            {
                "opened": len(opened),
                "failed": count - len(opened),
                "open_seconds": time.monotonic() - started,
                "errors": self.errors,
            }
        )
        if self.spec.get("mode") == "idle":
            await asyncio.wait_for(idle_until_stdin_closes(), timeout=timeout)
            return
        cpu, wall = time.process_time(), time.monotonic()
        pending = [c.ended for c in clients if not c.ended.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        for client in clients:
            if client.transport and not client.transport.is_closing():
                client.transport.close()
        expect = self.spec.get("expect")
        per_client = [
            {
                "lost": (expect - len(c.seen)) if expect else 0,
                "duplicated": c.duplicated,
                "out_of_order": c.out_of_order,
                "complete": c.complete,
            }
            for c in clients
        ]
        latencies = sorted(self.latencies)
        firsts = sorted(c.first_log for c in clients if c.first_log is not None)
        emit(
            {
                "result": {
                    "clients": count,
                    "opened": len(opened),
                    "completed": sum(c["complete"] for c in per_client),
                    "lost": sum(c["lost"] for c in per_client),
                    "duplicated": sum(c["duplicated"] for c in per_client),
                    "out_of_order": sum(c["out_of_order"] for c in per_client),
                    "clients_with_loss": sum(1 for c in per_client if c["lost"]),
                    "frames": len(latencies),
                    "latency": percentiles(latencies),
                    "first_log": percentiles(firsts),
                    "elapsed": time.monotonic() - started,
                    "slowest_events": sorted(self.worst.items(), key=lambda item: -item[1])[:8],
                    "client_cpu": (time.process_time() - cpu) / max(time.monotonic() - wall, 1e-9),
                    "errors": self.errors,
                }
            }
        )


async def idle_until_stdin_closes():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


def percentiles(values):
    if not values:
        return None
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "max": values[-1], "n": len(values)}


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(Load(json.loads(sys.argv[1])).run())
