"""Keyword evidence on SQLite records: BM25 with inverse document frequency counted among the user's own memories.

FTS5's bm25() counts a word's documents over the whole table, every user's memories: a chat partner's name that
is rare in the store but in most of one user's memories counts as rare for that user and lifts all of them over
the question's real word. Here each query term's documents are counted within the owner's postings (an FTS5
count per term), one query sums and orders the matches by the IDF of the terms they hold inside SQLite, and the
best are length-normalised from FTS5's own token counts (the docsize table), as
postgres_keywords.py does on PostgreSQL. Measured in bench/results/relevance-exact-terms.md: LoCoMo recall@5
(categories 1-4) 0.529 -> 0.542, the adversarial category 0.545 -> 0.605, unrelated pairs of the multilingual set
passing 0.7 7.8% -> 6.6%; for a 20k-memory user among 100k the query takes as long as FTS5's bm25() did (p50 about
4 ms, p95 about 8 ms), up to a fifth longer when every query word is among the user's commonest; summing inside
SQLite took that user's keyword search from 4.8 to 3.7 ms per search (bench/results/perf-ab-100k-keyword-sql.md).
"""

from __future__ import annotations

import math
import sqlite3

# BM25's constants, as on PostgreSQL; a memory holds a term once or twice, so term frequency is left out.
K1 = 1.2
B = 0.75
# Matches kept for length normalisation: a memory's length moves its score by at most about half, so the best
# few hundred by summed IDF hold every memory that can end in the top CANDIDATES.
RESCORED = 200
# Scale from this BM25 onto the evidence the ranking reads, s / (s + EVIDENCE_HALF): measured 1 / 1.5 / 2 / 2.5 / 3
# (bench/results/relevance-exact-terms.md), LoCoMo recall stops rising at 2, and above it more unrelated pairs pass
# on the multilingual set (6.6% at 2, 7.0% at 2.5) for a point more of LoCoMo's evidence.
RANK_SCALE = 2.0


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _content_length(size: bytes) -> int:
    """The content column's token count: the first varint of an FTS5 docsize record."""
    value = 0
    for n, byte in enumerate(size[:9]):
        if n == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value
    return value


def matches(c: sqlite3.Connection, owner: str, total: int, terms: list[str],
            limit: int | None = None) -> list[tuple[int, float]]:
    """(rowid, summed IDF of the query terms it holds) of the owner's matching memories, best first (the first
    `limit` of them when given); `owner` is the full-text index's owner token, `total` the owner's memory count
    (the N of IDF)."""
    weighted: list[float | str] = []
    for term in terms:
        match = f"owner : {owner} AND content : {_fts_string(term)}"
        df = c.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", (match,)).fetchone()[0]
        if df:
            weighted += [math.log(1.0 + (max(total, df) - df + 0.5) / (df + 0.5)), match]
    if not weighted:
        return []
    # Summed and ordered inside SQLite: for a big user's common words the postings run to thousands of rows, and
    # adding them up in Python held the interpreter lock for milliseconds beside the embedding model.
    union = " UNION ALL ".join(["SELECT rowid, ? AS w FROM memories_fts WHERE memories_fts MATCH ?"] * (len(weighted) // 2))
    sql = f"SELECT rowid, SUM(w) AS s FROM ({union}) GROUP BY rowid ORDER BY s DESC, rowid"
    if limit is not None:
        return c.execute(sql + " LIMIT ?", [*weighted, limit]).fetchall()
    return c.execute(sql, weighted).fetchall()


def normalised(c: sqlite3.Connection, best: list[tuple[int, float]], scale: float = RANK_SCALE) -> list[tuple[int, float]]:
    """BM25 scores of `best` (from `matches`), length-normalised by their FTS5 token counts, best first."""
    if not best:
        return []
    sizes = dict(c.execute(f"SELECT id, sz FROM memories_fts_docsize WHERE id IN ({','.join('?' * len(best))})",
                           [rowid for rowid, _ in best]).fetchall())
    lengths = {rowid: _content_length(sizes.get(rowid, b"")) for rowid, _ in best}
    # The matches' own average length, as on PostgreSQL: the user's would read all of their rows.
    average = max(sum(lengths.values()) / len(lengths), 1.0)
    scored = [(rowid, scale * (K1 + 1) * idf / (1 + K1 * (1 - B + B * lengths[rowid] / average)))
              for rowid, idf in best]
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def user_bm25(c: sqlite3.Connection, owner: str, total: int, terms: list[str],
              scale: float = RANK_SCALE) -> list[tuple[int, float]]:
    """(rowid, BM25 score) of the owner's best matching memories, best first, with no narrower scope."""
    return normalised(c, matches(c, owner, total, terms, RESCORED), scale)
