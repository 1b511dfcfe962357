"""Matching the performers a page names to the catalogue's artists."""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from rapidfuzz import fuzz, process

from ..conf import conf
from .extract import ExtractedEvent

# How studios bill several artists: "A & B", "A, B", "A x B", "A and B", "A + B", "A feat. B".
_BY_SEPARATORS = re.compile(r"\s*(?:&|,|\+|\s+x\s+|\s+and\s+|\s+feat\.?\s+)\s*", re.IGNORECASE)


class ArtistLike(Protocol):
    """What matching reads of an artist: a catalogue Artist row, or an llm KnownArtist copy of one."""

    @property
    def artist_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> Sequence[str] | None: ...


A = TypeVar("A", bound=ArtistLike)


def normalise_name(name: str) -> str:
    """Casefolded, without accents or punctuation, whitespace collapsed: 'Zoë  O'Neil' -> 'zoe oneil'."""
    decomposed = unicodedata.normalize("NFKD", name or "").casefold()
    kept = "".join(
        ch for ch in decomposed if not unicodedata.combining(ch) and not unicodedata.category(ch).startswith(("P", "S"))
    )
    return " ".join(kept.split())


def normalise_handle(handle: str) -> str:
    return (handle or "").strip().lstrip("@").casefold()


def split_artists(by: str) -> list[str]:
    return [name.strip() for name in _BY_SEPARATORS.split(by or "") if name.strip()]


class ArtistMatcher(Generic[A]):
    """Finds Artist rows by Instagram handle, then exact name or alias, then a fuzzy name match."""

    def __init__(self, artists: Iterable[A], threshold: float | None = None):
        self.threshold: float = conf.ARTIST_MATCH_THRESHOLD if threshold is None else threshold
        self._by_handle: dict[str, A] = {}
        self._by_name: dict[str, A] = {}
        self._fuzzy_names: list[str] = []
        self._fuzzy_artists: list[A] = []
        for artist in artists:
            self._by_handle.setdefault(normalise_handle(artist.artist_id), artist)
            for name in [artist.name, *(artist.aliases or [])]:
                key = normalise_name(name) if isinstance(name, str) else ""
                if key:
                    self._by_name.setdefault(key, artist)
                    self._fuzzy_names.append(key)
                    self._fuzzy_artists.append(artist)

    def match(self, name: str, handle: str | None = None) -> A | None:
        """The Artist for this performer, or None."""
        artist = self._exact(name, handle)
        if artist is not None:
            return artist
        key = normalise_name(name)
        if not key:
            return None
        best = process.extractOne(
            key, self._fuzzy_names, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold, processor=None
        )
        return self._fuzzy_artists[best[2]] if best else None

    def _exact(self, name: str, handle: str | None = None) -> A | None:
        # Billing by handle ("@jane") is common on Instagram-first studios.
        for candidate in (handle, name if (name or "").strip().startswith("@") else None):
            artist = self._by_handle.get(normalise_handle(candidate)) if candidate else None
            if artist:
                return artist
        return self._by_name.get(normalise_name(name))

    def _people(self, name: str, handle: str | None) -> list[tuple[str, str | None]]:
        """One billing entry as the people it names: "A & B" is two people, unless an artist is
        called exactly that (a crew named "Kings and Queens")."""
        parts = split_artists(name)
        if handle or len(parts) < 2 or self._exact(name):
            return [(name.strip(), handle)]
        return [(part, None) for part in parts]

    def match_event(self, event: ExtractedEvent) -> tuple[list[A], list[str]]:
        """(matched artists without duplicates, names that matched nobody) for an ExtractedEvent.

        Without separate performers, the event's `by` text is split into names.
        """
        matched: list[A] = []
        unmatched: list[str] = []
        for billed_name, billed_handle in event.performers or [(event.by, None)]:
            for name, handle in self._people(billed_name or "", billed_handle):
                if not name:
                    continue
                artist = self.match(name, handle)
                if artist is None:
                    if name not in unmatched:
                        unmatched.append(name)
                elif artist not in matched:
                    matched.append(artist)
        return matched, unmatched
