from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """Answers as soon as the process serves requests; touches neither the database nor a session,
    so load balancers and the test suite can poll it cheaply."""
    return JsonResponse({"status": "ok"})


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
