import struct
import zlib
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """Answers as soon as the process serves requests; touches neither the database nor a session,
    so load balancers and the test suite can poll it cheaply."""
    return JsonResponse({"status": "ok"})


@cache
def _favicon_png(size: int = 32) -> bytes:
    """A small PNG drawn here (a ring in the admin's blue on a transparent ground): no binary file to keep."""
    rows = []
    centre, outer, inner = (size - 1) / 2, size / 2, size / 2 - 6
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row += bytes((0x41, 0x76, 0x90, 255)) if inner <= distance <= outer or distance <= 3 else bytes(4)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@require_safe
def favicon(request):
    """/favicon.ico, which every browser asks for on every page: an icon instead of a 404."""
    response = HttpResponse(_favicon_png(), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def readyz(request):
    """Whether this process can serve: the database answers, and Redis when REDIS_URL is set.
    503 names each failing part, for load balancers to take the process out of rotation."""
    checks, failing = {}, []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"unreachable: {exc}".strip()
        failing.append("database")
        connections["default"].close()
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = f"unreachable: {exc}"
            failing.append("redis")
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
