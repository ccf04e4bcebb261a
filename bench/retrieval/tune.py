"""Offline replica of the service's search path, for choosing the fusion without an HTTP round trip per try.

Same embedder (LocalEmbedder), same candidate sets (dense top-50 + FTS5 BM25 top-50 with the store's tokenizer,
query terms and evidence scale), same `ranking.fuse`; only the transport is missing. The numbers it prints are
checked afterwards through the real service by `python -m bench.retrieval`.

    .venv/bin/python -m bench.retrieval.tune [--data PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from pathlib import Path

import numpy as np

from bench.retrieval.locomo import DEFAULT_DATA, REPO, load
from bench.retrieval.metrics import per_question, summarise

WORK = REPO / "bench" / ".work"
CANDIDATES = 50


def embed_all(texts: list[str], cache: Path) -> np.ndarray:
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        if data.shape[0] == len(texts):
            return data
    from mem0_service.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    asyncio.run(embedder.open())
    out = np.concatenate([embedder._encode(texts[i:i + 256]) for i in range(0, len(texts), 256)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, out)
    return out


def fts_evidence(db: sqlite3.Connection, owner_column: str, owner: str, terms: list[str],
                 half: float) -> dict[str, float]:
    """FTS5 BM25 evidence of one owner's memories (`m.<owner_column>`: a conversation, a user) matching any of the
    terms, on the stores' scale s / (s + half), best first."""
    if not terms:
        return {}
    match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
    rows = db.execute(f"SELECT m.id, -bm25(f) FROM f JOIN m ON m.rowid = f.rowid WHERE f MATCH ? AND m.{owner_column} = ? "
                      "ORDER BY bm25(f) LIMIT ?", (match, owner, CANDIDATES)).fetchall()
    return {i: s / (s + half) for i, s in rows if s > 0}


class Corpus:
    """Turn vectors per conversation and an FTS5 table built like the service's migration."""

    def __init__(self, data: Path):
        from mem0_service.stores.base import keyword_terms
        from mem0_service.stores.sqlite import BM25_HALF

        self.keyword_terms, self.bm25_half = keyword_terms, BM25_HALF
        self.turns, self.questions = load(data)
        flat = [t for conv in self.turns.values() for t in conv]
        self.ids = [f"{t.conversation}|{t.dia_id}" for t in flat]
        vectors = embed_all([t.content for t in flat], WORK / "use_turns.npy")
        self.qvec = embed_all([q.text for q in self.questions], WORK / "use_questions.npy")
        self.by_conv: dict[str, tuple[list[str], np.ndarray]] = {}
        offset = 0
        for conv, rows in self.turns.items():
            self.by_conv[conv] = ([f"{conv}|{t.dia_id}" for t in rows], vectors[offset:offset + len(rows)])
            offset += len(rows)
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE m (rowid INTEGER PRIMARY KEY, id TEXT, conv TEXT, content TEXT)")
        self.db.execute("CREATE VIRTUAL TABLE f USING fts5(content, content='m', content_rowid='rowid', "
                        "tokenize='porter unicode61 remove_diacritics 2')")
        self.db.executemany("INSERT INTO m (id, conv, content) VALUES (?,?,?)",
                            [(i, t.conversation, t.content) for i, t in zip(self.ids, flat)])
        self.db.execute("INSERT INTO f (f) VALUES ('rebuild')")

    def keyword(self, conv: str, query: str) -> dict[str, float]:
        return fts_evidence(self.db, "conv", conv, self.keyword_terms(query), self.bm25_half)

    def candidates(self):
        """(question, cosines of dense+keyword candidates, keyword evidence) per question, as the service sees them."""
        out = []
        for q, qv in zip(self.questions, self.qvec):
            ids, matrix = self.by_conv[q.conversation]
            scores = matrix @ qv
            top = np.argsort(-scores)[:CANDIDATES]
            dense = {ids[i]: float(scores[i]) for i in top}
            keyword = self.keyword(q.conversation, q.text)
            row_of = {i: n for n, i in enumerate(ids)}
            for i in keyword:
                if i not in dense:
                    dense[i] = float(scores[row_of[i]])
            out.append((q, dense, keyword))
        return out


def evaluate(cands, fuse, calibration, **kw):
    rows, survive = [], [0, 0, 0]
    for q, dense, keyword in cands:
        ranked = fuse(calibration, dense, keyword, **kw)
        dias = [r.memory_id.split("|", 1)[1] for r in ranked]
        rows.append(per_question(dias[:10], q.evidence))
        if q.category != 5:
            passed = {r.memory_id.split("|", 1)[1] for r in ranked if r.relevance >= 0.7}
            survive[0] += len(passed & q.evidence)
            survive[1] += len(passed - q.evidence)
            survive[2] += len(q.evidence)
    return summarise([c[0] for c in cands], rows), survive


def variants():
    """The fusions compared; each is fuse(calibration, cosines, keyword evidence) -> ranked list."""
    from mem0_service.core import ranking
    from mem0_service.core.ranking import Ranked

    def scored(fn):
        def fuse(calibration, cosines, keyword_scores, **_):
            ids = list(dict.fromkeys([*cosines, *keyword_scores]))
            if not ids:
                return []
            cos = np.array([cosines.get(i, -1.0) for i in ids])
            k = np.clip([keyword_scores.get(i, 0.0) for i in ids], 0.0, 0.999)
            bm25 = 6.0 * k / (1.0 - k)  # the stores' evidence scale, back to a BM25-like score
            rel = fn(cos, k, bm25, calibration)
            return [Ranked(ids[i], float(rel[i]), None, 0.0) for i in np.argsort(-rel, kind="stable")]
        return fuse

    def rrf(k):
        def fn(cos, _, bm25, cal):
            rank_d = np.argsort(np.argsort(-cos))
            rank_k = np.argsort(np.argsort(-bm25))
            return 1 / (k + rank_d) + np.where(bm25 > 0, 1 / (k + rank_k), 0.0)
        return fn

    return [
        ("keyword only (FTS5 BM25 as the service computes it)", scored(lambda c, k, b, cal: b + 1e-6 * c)),
        ("dense only (calibrated cosine)", lambda cal, d, k: ranking.fuse(cal, d, k, keyword_weight=0.0)),
        ("calibrated cosine, noisy-OR keyword lift 0.35 (first version)",
         scored(lambda c, k, b, cal: 1 - (1 - cal.score(c)) * (1 - 0.35 * k))),
        ("weighted sum 0.5 dense + 0.5 keyword (max-scaled)",
         scored(lambda c, k, b, cal: 0.5 * cal.score(c) + 0.5 * b / max(b.max(), 1e-9))),
        ("weighted sum 0.3 dense + 0.7 keyword (max-scaled)",
         scored(lambda c, k, b, cal: 0.3 * cal.score(c) + 0.7 * b / max(b.max(), 1e-9))),
        ("reciprocal rank fusion, k=5", scored(rrf(5))),
        ("reciprocal rank fusion, k=60", scored(rrf(60))),
        ("shipped: background-relative, per-query normalised dense, gated noisy-OR keyword 0.95", ranking.fuse),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ranking-fusion.md")
    args = parser.parse_args()
    from mem0_service.embedders.local import LocalEmbedder

    calibration = LocalEmbedder.calibration
    cands = Corpus(args.data).candidates()
    bilingual = Bilingual()
    lines = ["# Choosing the fusion (offline replica of the search path, bundled model)", "",
             "Command: `.venv/bin/python -m bench.retrieval.tune`. LoCoMo: categories 1-4 pooled "
             f"({sum(1 for c in cands if c[0].category != 5)} questions), candidates = dense top-50 + FTS5 top-50 as in "
             "the service. Threshold columns: evidence / other turns with relevance >= 0.7 over all questions. "
             "Bilingual: the test suite's Russian/English paraphrase set (tests/data), each query against its "
             "user's memories.", "",
             "| fusion | R@1 | R@5 | R@10 | MRR | multi-hop R@5 | temporal R@5 | open-domain R@5 | single-hop R@5 "
             "| evidence >= 0.7 | other >= 0.7 | bilingual hit@1 | bilingual recall@3 | bilingual relevant >= 0.7 "
             "| bilingual unrelated < 0.7 |", "|---" * 15 + "|"]
    for name, fuse in variants():
        summary, survive = evaluate(cands, fuse, calibration)
        bi = bilingual.evaluate(fuse, calibration)
        s = summary["1-4"]
        rrf = "reciprocal" in name  # no calibrated score: thresholds are meaningless
        lines.append(f"| {name} | {s['R@1']:.3f} | {s['R@5']:.3f} | {s['R@10']:.3f} | {s['MRR']:.3f} | "
                     + " | ".join(f"{summary[c]['R@5']:.3f}" for c in ("multi-hop", "temporal", "open-domain", "single-hop"))
                     + (" | - | - " if rrf else f" | {survive[0]}/{survive[2]} | {survive[1]} ")
                     + f"| {bi['hit@1']:.2f} | {bi['recall@3']:.2f} | "
                     + ("- | - |" if rrf else f"{bi['relevant>=0.7']:.2f} | {bi['unrelated<0.7']:.2f} |"))
        print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


class Bilingual:
    """The bilingual paraphrase set of the test suite, through the same replica (FTS5 over all its memories)."""

    def __init__(self, path: Path = REPO / "tests" / "data" / "bilingual_paraphrases.json"):
        import json

        from mem0_service.stores.base import keyword_terms
        from mem0_service.stores.sqlite import BM25_HALF

        users = json.loads(path.read_text())["users"]
        self.items = []
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE m (rowid INTEGER PRIMARY KEY, id TEXT, user TEXT, content TEXT)")
        db.execute("CREATE VIRTUAL TABLE f USING fts5(content, content='m', content_rowid='rowid', "
                   "tokenize='porter unicode61 remove_diacritics 2')")
        for u in users:
            db.executemany("INSERT INTO m (id, user, content) VALUES (?,?,?)",
                           [(f"{u['user_id']}|{k}", u["user_id"], v) for k, v in u["memories"].items()])
        db.execute("INSERT INTO f (f) VALUES ('rebuild')")
        from mem0_service.embedders.local import LocalEmbedder

        embedder = LocalEmbedder()
        asyncio.run(embedder.open())
        for u in users:
            ids = [f"{u['user_id']}|{k}" for k in u["memories"]]
            mv = embedder._encode(list(u["memories"].values()))
            for q in u["queries"]:
                qv = embedder._encode([q["q"]])[0]
                cos = dict(zip(ids, (mv @ qv).tolist()))
                terms = keyword_terms(q["q"])
                match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
                rows = db.execute("SELECT m.id, -bm25(f) FROM f JOIN m ON m.rowid = f.rowid WHERE f MATCH ? AND m.user = ? "
                                  "ORDER BY bm25(f) LIMIT 50", (match, u["user_id"])).fetchall() if terms else []
                kw = {i: s / (s + BM25_HALF) for i, s in rows if s > 0}
                self.items.append((cos, kw, {f"{u['user_id']}|{r}" for r in q["relevant"]}))

    def evaluate(self, fuse, calibration, **kw) -> dict[str, float]:
        hit1 = rec3 = kept = dropped = n_rel = n_unrel = 0
        for cos, keyword, relevant in self.items:
            ranked = fuse(calibration, cos, keyword, **kw)
            ids = [r.memory_id for r in ranked]
            hit1 += ids[0] in relevant
            rec3 += len(relevant & set(ids[:3])) / len(relevant)
            for r in ranked:
                if r.memory_id in relevant:
                    n_rel += 1
                    kept += r.relevance >= 0.7
                else:
                    n_unrel += 1
                    dropped += r.relevance < 0.7
        n = len(self.items)
        return {"hit@1": hit1 / n, "recall@3": rec3 / n, "relevant>=0.7": kept / n_rel, "unrelated<0.7": dropped / n_unrel}


if __name__ == "__main__":
    main()
