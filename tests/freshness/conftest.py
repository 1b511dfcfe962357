"""Fixtures for freshness tests: the local LLM stand-in, a studio whose pages the LLM reads, real Chromium."""

import re
from datetime import date, timedelta

import pytest

from studios.models import Studio
from tests.llm.conftest import llm_server, llm_settings  # noqa: F401  (fixtures)
from tests.llm.fake_openai import answer, completion, detail, prompt_text, when
from tests.pipeline.support import real_chromium
from tests.sites import Response

PAGE = """<html><head><title>{title}</title></head><body><h1>{title}</h1>
<p>Song: {song}. Price: {price}.</p></body></html>"""
DAY = date.today() + timedelta(days=30)


def llm_reads_the_page(body):
    """The stand-in model: reads the song and price the page prints."""
    text = prompt_text(body)
    song = re.search(r"Song: ([^.]+)\.", text)
    price = re.search(r"Price: ([^\n]+)\.", text)
    if not song:
        return completion(answer(is_valid=False))
    return completion(
        answer(
            detail(
                when(DAY, "07:00 PM"), by="Jane Doe", song=song.group(1), pricing_info=price.group(1) if price else None
            )
        )
    )


def page(number, price="₹1,000", etag=True):
    body = PAGE.format(title=f"Workshop {number}", song=f"Song {number}", price=price)
    version = sum(price.encode("utf-8"))  # an ETag is ASCII
    return Response(body, etag=f'"v-{number}-{version}"' if etag else None)


@pytest.fixture
def fast(settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_TIMEOUT = 2
    settings.FETCH_RETRIES = 1
    settings.FETCH_RETRY_BACKOFF = 0.01
    return settings


@pytest.fixture
def llm_site(site, llm_settings, llm_server, fast):  # noqa: F811
    llm_server.responder = llm_reads_the_page
    links = []
    for number in range(1, 4):
        site.add(f"/w/{number}/", page(number))
        links.append(f'<a href="/w/{number}/">{number}</a>')
    site.add("/", "<html><body>" + "".join(links) + "</body></html>")
    studio = Studio.objects.create(
        studio_id="fresh", name="Fresh", website=site.url("/"), link_pattern="/w/", extraction="llm"
    )
    return studio


@pytest.fixture
def chromium(settings):
    """Real Chromium, for render_js studios; no Chromium process is left behind."""
    yield from real_chromium(settings)
