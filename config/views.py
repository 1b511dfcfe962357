from django.http import JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """Answers as soon as the process serves requests; touches neither the database nor a session,
    so load balancers and the test suite can poll it cheaply."""
    return JsonResponse({"status": "ok"})
