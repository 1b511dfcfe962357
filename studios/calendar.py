"""Calendar feeds: the catalogue's workshops as iCalendar (RFC 5545), one event per session.

``GET /api/workshops.ics`` takes the workshop list's filters (studio, artist, event_type,
date_from, date_to, upcoming). Calendar apps send no headers, so besides a token or a staff session
the feed accepts ``?key=<secret>``, the user's revocable ``CalendarFeedKey``. Each event's UID is
made of what stays put across runs (the workshop's id, the session's date and start), so a
subscribed calendar updates its events instead of adding copies. Archived workshops are left out.
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vText

from streaming.http import ApiError, api_endpoint, authenticate, is_text

from .api import workshop_queryset
from .filters import WorkshopFilter
from .models import CalendarFeedKey, Session, Workshop

UID_DOMAIN = "studio-workshops"
FEED_FILTERS = ("studio", "artist", "event_type", "date_from", "date_to", "upcoming")


def feed_user(request):
    """Who reads the feed: the owner of ``?key=``, else a token or staff session (ApiError 401/403)."""
    key = request.GET.get("key")
    if key:
        found = CalendarFeedKey.objects.select_related("user").filter(key=key).first() if is_text(key) else None
        if found is None or not found.user.is_active:
            raise ApiError(401, "invalid_feed_key", "This calendar feed URL was revoked or never existed.")
        user = found.user
    else:
        user = authenticate(request)
    if not user.has_perm("studios.view_workshop"):
        raise ApiError(403, "permission_denied", "You may not read workshops.")
    return user


@api_endpoint(methods=["GET", "HEAD"])
def workshops_ics(request):
    feed_user(request)
    filters = WorkshopFilter({k: v for k, v in request.GET.items() if k in FEED_FILTERS}, queryset=workshop_queryset())
    if not filters.is_valid():
        field, errors = next(iter(filters.errors.items()))
        raise ApiError(400, "invalid_filter", f"{field}: {' '.join(errors)}")
    workshops = filters.qs.filter(is_archived=False)
    data = filters.form.cleaned_data
    first_day, last_day = data.get("date_from"), data.get("date_to")
    if data.get("upcoming") is True:
        today = timezone.localdate()
        first_day = max(first_day, today) if first_day else today
    calendar = build_calendar(workshops, name=feed_name(request), first_day=first_day, last_day=last_day)
    body = calendar.to_ical()
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="workshops.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def feed_name(request):
    parts = [f"{name} {request.GET[name]}" for name in ("studio", "artist") if request.GET.get(name)]
    return "Workshops" + (f" ({', '.join(parts)})" if parts else "")


def build_calendar(workshops, name="Workshops", first_day=None, last_day=None):
    """One VEVENT per session of these workshops; with first_day/last_day, only the sessions between."""
    calendar = Calendar()
    calendar.add("prodid", "-//Studio workshops//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for workshop in workshops:
        for session in workshop.sessions.all():
            if (first_day and session.date < first_day) or (last_day and session.date > last_day):
                continue
            calendar.add_component(session_event(workshop, session))
    calendar.add_missing_timezones()
    return calendar


def session_uid(workshop: Workshop, session: Session) -> str:
    start = session.start_time.strftime("%H%M") if session.start_time else "allday"
    return f"workshop-{workshop.pk}-{session.date:%Y%m%d}-{start}@{UID_DOMAIN}"


def session_event(workshop: Workshop, session: Session) -> Event:
    studio = workshop.studio
    zone = ZoneInfo(studio.time_zone)
    event = Event()
    event.add("uid", session_uid(workshop, session))
    event.add("dtstamp", workshop.updated_at)
    event.add("last-modified", workshop.updated_at)
    title = workshop.title or workshop.song or "Workshop"
    event.add("summary", f"{title} at {studio.name}")
    if session.start_time is None:
        event.add("dtstart", session.date)  # a date only: the whole day
        event.add("dtend", session.date + timedelta(days=1))
    else:
        start = datetime.combine(session.date, session.start_time, tzinfo=zone)
        event.add("dtstart", start)
        if session.end_time:
            end = datetime.combine(session.date, session.end_time, tzinfo=zone)
            event.add("dtend", end if end > start else end + timedelta(days=1))
    event.add("location", vText(studio.name))
    event.add("url", workshop.source_url)
    event.add("description", description(workshop))
    return event


def description(workshop: Workshop) -> str:
    lines = []
    artists = workshop.by or ", ".join(artist.name for artist in workshop.artists.all())
    if artists:
        lines.append(f"Artists: {artists}")
    if workshop.song:
        lines.append(f"Song: {workshop.song}")
    if workshop.pricing_info:
        lines.append("Price: " + workshop.pricing_info.replace("\n", "; "))
    if workshop.payment_link:
        lines.append(f"Booking: {workshop.payment_link}")
    lines.append(f"Details: {workshop.source_url}")
    return "\n".join(lines)


def reset_feed_key(user) -> CalendarFeedKey:
    """A new secret for the user's feed: every URL made with the old one stops working."""
    with transaction.atomic():
        CalendarFeedKey.objects.filter(user=user).delete()
        return CalendarFeedKey.objects.create(user=user)


def feed_url(request, user, **filters):
    """The user's secret feed URL for these filters (made on first use), absolute."""
    key, _ = CalendarFeedKey.objects.get_or_create(user=user)
    query = urlencode({**{k: v for k, v in filters.items() if v}, "key": key.key})
    return request.build_absolute_uri(reverse("workshops-ics")) + "?" + query
