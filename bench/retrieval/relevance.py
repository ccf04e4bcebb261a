"""Relevance at the default threshold: each lever measured on the labelled sets and on LoCoMo.

Offline replica of the search path (as bench.retrieval.tune): same embedder, same candidates (dense top-50 + FTS5
top-50 with the store's tokenizer and query terms), same `ranking.fuse`. Labelled sets: the test suite's bilingual
Russian/English set (tests/data) and the multilingual set (bench/data: Russian, English, German, Spanish, French,
with hard negatives and queries that have no answer). Calibrations are fitted on the multilingual set and checked on
the bilingual one, which was written independently; the multilingual numbers are also given leave-one-user-out.

    .venv/bin/python -m bench.retrieval.relevance [--data PATH] [--out bench/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import machine_note
from bench.retrieval.locomo import DEFAULT_DATA, REPO
from bench.retrieval.tune import Corpus, evaluate, fts_evidence

BILINGUAL = REPO / "tests" / "data" / "bilingual_paraphrases.json"
MULTILINGUAL = REPO / "bench" / "data" / "multilingual_relevance.json"
THRESHOLD = 0.7
WORD = re.compile(r"\w+", re.UNICODE)
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


class SnowballText:
    """Words reduced to their Snowball stems (Russian for Cyrillic words, English otherwise), for an FTS5 index
    that keeps no stemming of its own: the lever "keyword evidence with stemming for the languages served"."""

    def __init__(self):
        import snowballstemmer

        self.russian = snowballstemmer.stemmer("russian")
        self.english = snowballstemmer.stemmer("english")

    def words(self, text: str) -> list[str]:
        out = []
        for w in WORD.findall(text.lower()):
            out.append(self.russian.stemWord(w) if CYRILLIC.search(w) else self.english.stemWord(w))
        return out

    def __call__(self, text: str) -> str:
        return " ".join(self.words(text))


def stem_corpus(corpus: Corpus, stem: SnowballText) -> Corpus:
    """The LoCoMo replica with its FTS5 index over Snowball stems instead of FTS5's own Porter stemmer."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE m (rowid INTEGER PRIMARY KEY, id TEXT, conv TEXT, content TEXT)")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(content, content='m', content_rowid='rowid', "
               "tokenize='unicode61 remove_diacritics 2')")
    rows = corpus.db.execute("SELECT id, conv, content FROM m").fetchall()
    db.executemany("INSERT INTO m (id, conv, content) VALUES (?,?,?)", [(i, c, stem(t)) for i, c, t in rows])
    db.execute("INSERT INTO f (f) VALUES ('rebuild')")
    corpus.db = db
    plain_terms = corpus.keyword_terms
    corpus.keyword_terms = lambda q: list(dict.fromkeys(w for t in plain_terms(q) for w in stem.words(t)))
    return corpus


@dataclass
class Item:
    user: str
    ids: list[str]
    cosines: dict[str, float]
    keyword: dict[str, float]
    relevant: set[str]
    hard: set[str]


class LabelledSet:
    """A labelled set through the replica: each query against its user's memories, FTS5 over all memories."""

    def __init__(self, path: Path, embedder, stem: SnowballText | None = None, subject_free_share: float | None = None):
        """`subject_free_share`: the query vector's share without the subject words (core.query_subject; None: as
        the service does, 0: the query as written)."""
        from mem0_service.stores.base import keyword_terms
        from mem0_service.stores.sqlite import BM25_HALF

        self.keyword_terms, self.bm25_half, self.stem = keyword_terms, BM25_HALF, stem
        users = json.loads(path.read_text())["users"]
        self.db = db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE m (rowid INTEGER PRIMARY KEY, id TEXT, user TEXT, content TEXT)")
        tokenizer = "unicode61 remove_diacritics 2" if stem else "porter unicode61 remove_diacritics 2"
        db.execute(f"CREATE VIRTUAL TABLE f USING fts5(content, content='m', content_rowid='rowid', tokenize='{tokenizer}')")
        for u in users:
            db.executemany("INSERT INTO m (id, user, content) VALUES (?,?,?)",
                           [(f"{u['user_id']}|{k}", u["user_id"], stem(v) if stem else v) for k, v in u["memories"].items()])
        db.execute("INSERT INTO f (f) VALUES ('rebuild')")
        self.items: list[Item] = []
        self.vectors: dict[str, dict[str, np.ndarray]] = {}
        for u in users:
            ids = [f"{u['user_id']}|{k}" for k in u["memories"]]
            mv = embedder._encode(list(u["memories"].values()))
            self.vectors[u["user_id"]] = dict(zip(ids, mv))
            qv = query_vectors(embedder, [q["q"] for q in u["queries"]], subject_free_share)
            for q, v in zip(u["queries"], qv):
                self.items.append(Item(u["user_id"], ids, dict(zip(ids, (mv @ v).tolist())),
                                       self.keyword(u["user_id"], q["q"]),
                                       {f"{u['user_id']}|{r}" for r in q["relevant"]},
                                       {f"{u['user_id']}|{r}" for r in q.get("hard_negatives", [])}))

    def keyword(self, user: str, query: str) -> dict[str, float]:
        """FTS5 keyword evidence for the query among the user's memories, on the stores' scale."""
        terms = self.keyword_terms(query)
        if self.stem:
            terms = list(dict.fromkeys(s for t in terms for s in self.stem.words(t)))
        return fts_evidence(self.db, "user", user, terms, self.bm25_half)

    def users(self) -> list[str]:
        return sorted({i.user for i in self.items})

    def labelled(self, items=None):
        from mem0_service.core.calibration_fit import LabelledQuery

        return [LabelledQuery("", np.array([i.cosines[k] for k in i.ids]), np.array([k in i.relevant for k in i.ids]))
                for i in (items or self.items)]


def query_vectors(embedder, queries: list[str], share: float | None = None) -> np.ndarray:
    """The queries' vectors as a search computes them (core.query_subject), with another subject-free share if given."""
    from mem0_service.core.query_subject import SUBJECT_FREE_SHARE, faded, without_subject

    vectors = embedder._encode(queries)
    share = SUBJECT_FREE_SHARE if share is None else share
    for n, query in enumerate(queries):
        plain = without_subject(query)
        if plain is not None and share:
            vectors[n] = faded(vectors[n], embedder._encode([plain])[0], share)
    return vectors


def pass_shares(items, rank) -> dict[str, float]:
    """hit@1 and the shares of relevant / unrelated / hard-negative pairs passing the threshold, and of no-answer
    queries with a pass; `rank(item)` gives the item's ranked results (anything with .ids, .relevant, .hard)."""
    hit1 = answered = kept = n_rel = leaked = n_un = hard = n_hard = loud = n_none = 0
    for it in items:
        ranked = rank(it)
        passed = {r.memory_id for r in ranked if r.relevance >= THRESHOLD}
        if it.relevant:
            answered += 1
            hit1 += ranked[0].memory_id in it.relevant
        else:
            n_none += 1
            loud += bool(passed)
        kept += len(passed & it.relevant)
        n_rel += len(it.relevant)
        leaked += len(passed - it.relevant)
        n_un += len(it.ids) - len(it.relevant)
        hard += len(passed & it.hard)
        n_hard += len(it.hard)
    return {"hit@1": hit1 / max(answered, 1), "relevant": kept / max(n_rel, 1), "unrelated": leaked / max(n_un, 1),
            "hard": hard / max(n_hard, 1), "no-answer": loud / max(n_none, 1)}


def score_set(items: list[Item], fuse, calibration) -> dict[str, float]:
    return {**pass_shares(items, lambda it: fuse(calibration, it.cosines, it.keyword)), "n": len(items)}


def leave_one_user_out(ml: LabelledSet, fuse, query_weight: float, raw) -> dict[str, float]:
    """Multilingual numbers with each user's queries scored by anchors fitted on the other users only."""
    from mem0_service.core.calibration_fit import fit

    rows = []
    for user in ml.users():
        train = [i for i in ml.items if i.user != user]
        calibration = fit(ml.labelled(train), query_weight, raw=raw).calibration
        held_out = [i for i in ml.items if i.user == user]
        rows.append((score_set(held_out, fuse, calibration), len(held_out)))
    total = sum(n for _, n in rows)
    return {k: sum(r[k] * n for r, n in rows) / total for k in ("relevant", "unrelated", "hard", "no-answer", "hit@1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--skip-locomo", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="rewrite relevance.md/.png from relevance.json")
    args = parser.parse_args()
    if args.report_only:
        saved = json.loads((args.out / "relevance.json").read_text())
        write_report(args.out, saved["rows"], saved["meta"]["machine"])
        return
    from mem0_service.core import ranking
    from mem0_service.core.calibration_fit import fit
    from mem0_service.embedders.base import Calibration
    from mem0_service.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    asyncio.run(embedder.open())
    stem = SnowballText()
    bi, ml = LabelledSet(BILINGUAL, embedder), LabelledSet(MULTILINGUAL, embedder)
    bi_s, ml_s = LabelledSet(BILINGUAL, embedder, stem), LabelledSet(MULTILINGUAL, embedder, stem)
    locomo = None if args.skip_locomo else Corpus(args.data).candidates()
    locomo_stemmed = None if args.skip_locomo else stem_corpus(Corpus(args.data), stem).candidates()

    previous = Calibration(0.09, 0.26, 0.45)
    refit = fit(ml.labelled(), 0.0).calibration
    fits = {w: fit(ml.labelled(), w, raw=previous).calibration for w in (0.5, 1.0, 2.0, 3.0, 5.0)}
    shipped = LocalEmbedder.calibration
    fuse = ranking.fuse

    def dense_only(cal, cos, kw):
        return ranking.fuse(cal, cos, kw, keyword_weight=0.0)

    def released(fn):
        """The ranking as released before this change: background shift 1.2, keyword lift 0.9, floor 15."""
        def run(cal, cos, kw):
            kept = ranking.BACKGROUND_SHIFT, ranking.KEYWORD_WEIGHT, ranking.KEYWORD_FLOOR
            ranking.BACKGROUND_SHIFT, ranking.KEYWORD_WEIGHT, ranking.KEYWORD_FLOOR = 1.2, 0.9, 15.0
            try:
                return fn(cal, cos, kw)
            finally:
                ranking.BACKGROUND_SHIFT, ranking.KEYWORD_WEIGHT, ranking.KEYWORD_FLOOR = kept
        return run

    variants = [
        ("released: raw-cosine anchors from the bilingual set, hybrid (shift 1.2, lift 0.9, floor 15)", previous,
         released(fuse), False),
        ("released, dense only", previous, released(dense_only), False),
        ("raw-cosine anchors, retuned hybrid (shift 2.2, lift 0.95, floor 12), no normalisation", previous, fuse, False),
        ("raw-cosine anchors refitted on the multilingual set", refit, fuse, False),
        *[(f"per-query normalisation, weight {w:g}, its anchors fitted", fits[w], fuse, False) for w in fits],
        (f"per-query normalisation {shipped.query_weight:g} + Snowball-stemmed keywords", shipped, fuse, True),
        ("shipped: per-query normalisation, weight " f"{shipped.query_weight:g}, anchors {shipped}", shipped, fuse, False),
        ("shipped, dense only", shipped, dense_only, False),
    ]
    table = []
    for name, cal, fn, stemmed in variants:
        b = score_set((bi_s if stemmed else bi).items, fn, cal)
        m = score_set((ml_s if stemmed else ml).items, fn, cal)
        row = {"name": name, "calibration": str(cal), "bilingual": b, "multilingual": m}
        if cal.query_weight and not stemmed and fn is fuse and "shipped" not in name:
            row["louo"] = leave_one_user_out(ml, fn, cal.query_weight, previous)
        if locomo is not None:
            summary, survive = evaluate(locomo_stemmed if stemmed else locomo, fn, cal)
            row["locomo"] = {"R@5": summary["1-4"]["R@5"], "MRR": summary["1-4"]["MRR"],
                             **{c: summary[c]["R@5"] for c in ("multi-hop", "temporal", "open-domain", "single-hop")},
                             "evidence>=0.7": survive[0] / survive[2], "other>=0.7 per q": survive[1] / 1535}
        table.append(row)
        print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "relevance.json").write_text(json.dumps({"meta": {"machine": machine_note()}, "rows": table}, indent=1) + "\n")
    write_report(args.out, table, machine_note())


def write_report(out: Path, table: list[dict], machine: str) -> None:
    def pct(x):
        return f"{x:.0%}" if x is not None else "-"

    lines = ["# Relevance at the default threshold 0.7: the levers, measured", "",
             "Command: `.venv/bin/python -m bench.retrieval.relevance` (offline replica of the search path, bundled "
             "model; each calibration checked afterwards through the HTTP API by `python -m bench.retrieval`, see "
             "retrieval.md).  ", f"Machine: {machine}", "",
             "Sets: **bilingual** = tests/data/bilingual_paraphrases.json (31 Russian/English queries, 30 memories of 3 "
             "users); **multilingual** = bench/data/multilingual_relevance.json (221 queries in Russian, English, German, "
             "Spanish, French over 70 short memories of 7 users in Russian, English, German, Spanish; 188 of the 200 "
             "answerable queries are cross-language, 77 hard-negative pairs that share a word or topic but do not answer, "
             "21 queries with no answer). Each query is ranked against its user's memories. Pass = relevance >= 0.7. "
             "Calibrations are fitted on the multilingual set; the bilingual set (written independently) and the "
             "leave-one-user-out column check that they carry over.", "",
             "Levers measured after this table, each in its own report on top of the ranking shipped here: the "
             "subject faded out of the query (relevance-query-subject.md), conversation context "
             "(relevance-turn-context.md), the hub correction (relevance-hubs.md), Cyrillic borrowings "
             "(relevance-transliteration.md, rejected), a second offline model (relevance-second-model.md, rejected) "
             "and the chat model's rewrites of the query, opt-in (relevance-query-rewrite.md).", "",
             "| lever | calibration | bilingual hit@1 | bilingual relevant pass | bilingual unrelated pass "
             "| multilingual hit@1 | multilingual relevant pass | (leave one user out) | multilingual unrelated pass "
             "| (leave one user out) | hard negatives pass | no-answer queries with a pass "
             "| LoCoMo R@5 (1-4) | LoCoMo evidence pass | LoCoMo other turns passing per question |",
             "|---" * 15 + "|"]
    for r in table:
        b, m, lo, lc = r["bilingual"], r["multilingual"], r.get("louo"), r.get("locomo")
        lines.append(f"| {r['name']} | `{r['calibration']}` | {b['hit@1']:.2f} | {pct(b['relevant'])} | {pct(b['unrelated'])} "
                     f"| {m['hit@1']:.2f} | {pct(m['relevant'])} | {pct(lo['relevant']) if lo else '-'} "
                     f"| {pct(m['unrelated'])} | {pct(lo['unrelated']) if lo else '-'} | {pct(m['hard'])} "
                     f"| {pct(m['no-answer'])} "
                     + (f"| {lc['R@5']:.3f} | {pct(lc['evidence>=0.7'])} | {lc['other>=0.7 per q']:.1f} |" if lc
                        else "| - | - | - |"))
    lines += ["", "![relevant vs unrelated pairs passing 0.7](relevance.png)", "", "Notes", "",
              "- *Relevant pass* / *unrelated pass*: share of (query, memory) pairs labelled relevant / not relevant "
              "whose relevance is >= 0.7. *Hard negatives*: the subset of unrelated pairs that share a word or the "
              "topic with the query. *No-answer queries with a pass*: queries whose user has no memory answering "
              "them, yet at least one memory scores >= 0.7.",
              "- Leave one user out: each user's queries scored with anchors fitted on the other six users only.",
              "- Per-query normalisation scores `cos - w * (best cos of the query - cos)` through anchors fitted for "
              "that w; the raw-cosine anchors stay those of the bilingual set and gate keyword evidence. It fades "
              "out as the background of the 50 nearest candidates rises (ranking.NORMALISE_UNTIL), which keeps "
              "LoCoMo's ranking.",
              "- Snowball stemming: FTS5 over Snowball stems (Russian for Cyrillic words, English otherwise) instead "
              "of FTS5's Porter tokenizer, on the labelled sets and on LoCoMo.",
              "- LoCoMo columns: the offline replica (candidates = dense top-50 + FTS5 top-50); the same through the "
              "HTTP API on both record stores is in retrieval.md.", ""]
    (out / "relevance.md").write_text("\n".join(lines) + "\n")
    plot(out / "relevance.png", table)


def plot(path: Path, table: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    for n, r in enumerate(table):
        colour = f"C{n % 10}" if n < 10 else "black"
        ax.scatter(100 * r["multilingual"]["unrelated"], 100 * r["multilingual"]["relevant"], marker="o", s=45,
                   color=colour, label=r["name"][:70])
        ax.scatter(100 * r["bilingual"]["unrelated"], 100 * r["bilingual"]["relevant"], marker="s", s=45, color=colour)
    ax.axhline(90, color="grey", lw=0.8, ls="--")
    ax.axvline(10, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("unrelated pairs passing 0.7 (%)")
    ax.set_ylabel("relevant pairs passing 0.7 (%)")
    ax.set_title("Default threshold 0.7: circles multilingual set, squares bilingual set\n(target: above the horizontal "
                 "line, left of the vertical one)", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
