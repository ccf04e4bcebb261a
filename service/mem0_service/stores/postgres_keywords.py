"""Keyword evidence on PostgreSQL records: BM25 over the full-text index, with inverse document frequency.

ts_rank_cd has no IDF: a word most of a user's memories share ("user", a speaker's name in a conversation) ranks
like a rare name and lifts unrelated memories over the threshold. The query below scores each matching memory with
BM25 (Robertson/Sparck Jones IDF from the user's own memories, length-normalised by lexemes), in one round trip, and
returns only the best rows. Measured in bench/results/relevance-exact-terms.md: LoCoMo recall@5 (categories 1-4)
0.536 -> 0.547 with the adversarial category 0.503 -> 0.600; and the keyword query is faster than ts_rank_cd, which
reads every match's positions (p50 19 -> 5 ms on LoCoMo's conversations, 99 -> 24 ms for a user with 17.6k memories).
"""

from __future__ import annotations

# BM25's usual constants: term saturation and length normalisation. A memory holds a term once or twice, so the
# term frequency is left out: a memory's score is the IDF of the query terms it contains, length-normalised.
K1 = 1.2
B = 0.75
# Scale from this BM25 to the evidence the ranking reads, s / (s + EVIDENCE_HALF) (ranking.EVIDENCE_HALF = 6):
# PostgreSQL's lexeme counts and IDF differ from SQLite FTS5's bm25, and this factor makes the default threshold
# mean the same on both stores. Measured 1.5 / 2 / 2.5 / 3: recall is the same from 2 up; 2.5 passes more evidence
# than 2 (LoCoMo 41% against 40%) with fewer unrelated pairs than 3 (multilingual set 7.1% against 7.5%).
RANK_SCALE = 2.5
EVIDENCE_HALF = 6.0

# `{where}` is the scope's condition on alias `m`, used twice: the matches and the user's total (the N of IDF).
# Every step is materialised: psycopg prepares a statement once it has run five times, and PostgreSQL's generic
# plan for it would otherwise parse the query again for every memory and recount the IDF for every match (100
# times slower). The average length is the matches' own: the user's would read all of their rows.
QUERY = """
WITH a AS MATERIALIZED (
    SELECT to_tsquery('english'::regconfig, %s) || to_tsquery('russian'::regconfig, %s) AS query),
q AS MATERIALIZED (
    SELECT n, to_tsquery('english'::regconfig, t) || to_tsquery('russian'::regconfig, t) AS tq
    FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)),
c AS MATERIALIZED (
    SELECT m.id, length(m.search_vector) AS len, ARRAY(SELECT q.n FROM q WHERE m.search_vector @@ q.tq) AS hits
    FROM memories m, a WHERE m.search_vector @@ a.query AND {where}),
s AS MATERIALIZED (SELECT (SELECT count(*) FROM memories m WHERE {where}) AS total, (SELECT avg(len) FROM c) AS avglen),
idf AS MATERIALIZED (
    SELECT array_agg(ln(1.0 + (s.total - d.df + 0.5) / (d.df + 0.5))::float8 ORDER BY q.n) AS w
    FROM s, q LEFT JOIN LATERAL (SELECT count(*) AS df FROM c WHERE q.n = ANY(c.hits)) d ON true)
SELECT c.id, ((SELECT sum(idf.w[h]) FROM unnest(c.hits) h)
              / (1 + %s * (1 - %s + %s * c.len / greatest(s.avglen, 1))))::float8 AS score
FROM c, s, idf ORDER BY score DESC, c.id LIMIT %s
"""


def bm25_query(where: str, where_params: list, terms: list[str], limit: int) -> tuple[str, list]:
    """The SQL and its parameters, in the order the placeholders appear."""
    text = " | ".join(terms)
    return QUERY.format(where=where), [text, text, terms, *where_params, *where_params, K1, B, B, limit]


def evidence(score: float) -> float:
    """The evidence the ranking reads for a BM25 score (see ranking.EVIDENCE_HALF)."""
    scaled = RANK_SCALE * (K1 + 1) * score
    return scaled / (scaled + EVIDENCE_HALF)
