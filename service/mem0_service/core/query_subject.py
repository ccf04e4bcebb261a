"""A search query's vector with the memories' shared subject faded out.

Stored facts are written about one person ("The user wakes up at 6:45", "Пользователь не ест мясо"), and a
question about them names that subject too ("What does the user watch on weekends?"). In the bundled model's
vector the shared word weighs about as much as the topic, so a memory that spells the subject out in the query's
language outranks the one that answers in another language or with the person's name ("По выходным пользователь
смотрит футбол", "Anna's favourite band is Radiohead"). The subject is in nearly every memory, so it says nothing
about which one answers.

The query is therefore embedded twice in one call, as written and without the subject words, and the two vectors
are averaged: the subject still counts, at half its weight. Measured (bench/results/relevance-query-subject.md):
bilingual hit@1 0.81 -> 0.87, multilingual hit@1 0.850 -> 0.855, unrelated pairs passing 0.7 7.8% -> 7.6%;
LoCoMo's questions never say "user" and are unchanged. Removing the words outright won less on the bilingual set,
and fading function words as well ("does", "ли") gave back part of the gain.
"""

from __future__ import annotations

import re

import numpy as np

from mem0_service.embedders.base import Embedder

# How stored facts name their subject, in the languages the bundled model serves best and the extraction writes.
SUBJECT_WORDS = frozenset("""
user users user's пользователь пользователя пользователю пользователем пользователе пользователи пользователей
пользователям пользователями пользователях nutzer nutzerin nutzers usuario usuaria usuarios utilisateur
utilisatrice utilisateurs
""".split())
# Share of the subject-free vector in the query's vector (0.5 and 0.7 measured the same, 0.3 and 1.0 lower).
SUBJECT_FREE_SHARE = 0.5
_WORD = re.compile(r"\w+(?:['’]s)?")


def without_subject(query: str) -> str | None:
    """The query with its subject words removed, or None when it has none (or nothing else)."""
    kept, dropped, last = [], False, 0
    for match in _WORD.finditer(query):
        if match.group().casefold().replace("’", "'") in SUBJECT_WORDS:
            kept.append(query[last:match.start()])
            last, dropped = match.end(), True
    if not dropped:
        return None
    text = re.sub(r"\s+([?!.,:;])", r"\1", " ".join("".join([*kept, query[last:]]).split()))
    return text if _WORD.search(text) else None


def faded(as_written: np.ndarray, subject_free: np.ndarray, share: float = SUBJECT_FREE_SHARE) -> np.ndarray:
    """The average of the two unit vectors, back on the unit sphere."""
    mixed = (1.0 - share) * as_written + share * subject_free
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm).astype(as_written.dtype) if norm else as_written


async def query_vector(embedder: Embedder, query: str) -> np.ndarray:
    """The vector a search compares memories with: one embedding call either way."""
    return (await query_vectors(embedder, [query]))[0]


async def query_vectors(embedder: Embedder, queries: list[str]) -> list[np.ndarray]:
    """query_vector of each query (a search's query and its rewrites), all in one embedding call."""
    plain = [without_subject(q) for q in queries]
    texts = [*queries, *(p for p in plain if p is not None)]
    vectors = await embedder.embed(texts) if len(texts) > 1 else [await embedder.embed_one(texts[0])]
    out, extra = [], len(queries)
    for n, subject_free in enumerate(plain):
        if subject_free is None:
            out.append(vectors[n])
        else:
            out.append(faded(vectors[n], vectors[extra]))
            extra += 1
    return out
