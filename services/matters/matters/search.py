"""Chinese search over bundles and matters: jieba tokens, ranked with BM25.

The index lives in memory. It is built at start and rebuilt when the catalogue has
changed: publishing marks it stale here, and a cheap look at the newest version ids
catches what other replicas published.
"""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters.catalogue import current_bundles, current_versions
from matters.models import Bundle, Matter
from matters.schemas import SearchHit

SEARCH_DATA = Path(__file__).parent / "seed" / "search.yaml"

# Field weights: a word in the name says more than one in the description.
NAME_WEIGHT, KEYWORD_WEIGHT, DESCRIPTION_WEIGHT = 3, 2, 1
K1, B = 1.5, 0.75
# Bundles and matters are few compared with this; the catalogue is read whole.
INDEX_LIMIT = 100_000


@dataclass(frozen=True)
class SearchData:
    stopwords: frozenset[str]
    words: tuple[str, ...]


@cache
def search_data() -> SearchData:
    raw = yaml.safe_load(SEARCH_DATA.read_text(encoding="utf-8"))
    return SearchData(frozenset(raw["stopwords"]), tuple(raw["dictionary"]))


@cache
def tokenizer() -> Any:
    """jieba with the catalogue's own words (一件事, 社保卡 …) added; loaded once."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for word in search_data().words:
        tk.add_word(word)
    return tk


def tokens(text: str) -> list[str]:
    """Search-mode tokens (long words and the shorter words in them), lower-cased,
    without stopwords, punctuation and spaces."""
    stopwords = search_data().stopwords
    out = []
    for token in tokenizer().cut_for_search(text):
        token = token.strip().lower()
        if token and token not in stopwords and any(c.isalnum() for c in token):
            out.append(token)
    return out


@dataclass
class Document:
    kind: Literal["bundle", "matter"]
    code: str
    version: int
    name: str
    department: str
    terms: Counter[str]
    length: int


def document(kind: Literal["bundle", "matter"], row: Bundle | Matter) -> Document:
    terms: Counter[str] = Counter()
    for text, weight in (
        (row.name, NAME_WEIGHT),
        (" ".join(row.keywords), KEYWORD_WEIGHT),
        (row.description, DESCRIPTION_WEIGHT),
    ):
        for token in tokens(text):
            terms[token] += weight
    return Document(
        kind, row.code, row.version, row.name, row.department, terms, sum(terms.values())
    )


class SearchIndex:
    def __init__(self) -> None:
        self.documents: list[Document] = []
        self.document_frequency: Counter[str] = Counter()
        self.average_length = 0.0
        self.signature: tuple[int, int] | None = None
        self.stale = True
        self._lock = asyncio.Lock()

    def mark_stale(self) -> None:
        self.stale = True

    async def refresh(self, session: AsyncSession) -> None:
        """Rebuild when stale or when another replica published since the last build."""
        signature = await catalogue_signature(session)
        if not self.stale and signature == self.signature:
            return
        async with self._lock:
            if not self.stale and signature == self.signature:
                return
            self.stale = False  # a publish during the rebuild sets it again
            bundles = await current_bundles(session, None, limit=INDEX_LIMIT)
            matters = await current_versions(session, None, limit=INDEX_LIMIT)
            # Tokenising is CPU work: off the event loop, on rows already loaded.
            documents = await asyncio.to_thread(
                lambda: (
                    [document("bundle", b) for b in bundles]
                    + [document("matter", m) for m in matters]
                )
            )
            self.documents = documents
            self.document_frequency = Counter(t for d in documents for t in d.terms)
            self.average_length = (
                sum(d.length for d in documents) / len(documents) if documents else 0.0
            )
            self.signature = signature

    async def search(self, session: AsyncSession, query: str, *, limit: int) -> list[SearchHit]:
        """The best ``limit`` hits for ``query``, on the index as the catalogue is now."""
        await self.refresh(session)
        return self.rank(query, limit)

    def rank(self, query: str, limit: int) -> list[SearchHit]:
        wanted = set(tokens(query))
        n = len(self.documents)
        hits: list[SearchHit] = []
        for doc in self.documents:
            score = 0.0
            for term in wanted:
                tf = doc.terms.get(term, 0)
                if not tf:
                    continue
                df = self.document_frequency[term]
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                norm = K1 * (1 - B + B * doc.length / self.average_length)
                score += idf * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                hits.append(
                    SearchHit(
                        kind=doc.kind,
                        code=doc.code,
                        version=doc.version,
                        name=doc.name,
                        department=doc.department,
                        score=round(score, 4),
                    )
                )
        # Ties: a bundle before a matter, then by code, so the order is stable.
        hits.sort(key=lambda h: (-h.score, h.kind != "bundle", h.code))
        return hits[:limit]


async def catalogue_signature(session: AsyncSession) -> tuple[int, int]:
    newest_matter = await session.scalar(select(func.max(Matter.id)))
    newest_bundle = await session.scalar(select(func.max(Bundle.id)))
    return newest_matter or 0, newest_bundle or 0
