"""Russian questions that write English words in Cyrillic (деплой, продакшен, релиз, бэкенд): does a transliterated
second query vector find the English memories the bundled model misses? And can the model tell a question with no
answer from one with an answer?

Offline replica of the search path (as bench.retrieval.relevance): the bundled model, FTS5 keyword evidence, the
shipped query vector (core.query_subject) and `ranking.fuse` with the shipped calibration. Rows differ only in how a
query with Cyrillic words is compared with the memories:

- averaged: the query's vector averaged with the vector of its transliteration (Latin letters), at a share;
- best of both: each memory scored by the larger of its cosines to the two vectors, less a discount for the
  transliterated one.

Sets: the bilingual and multilingual sets of relevance.md, and bench/data/borrowings_relevance.json (39 Russian
questions with borrowings over short, mostly English memories of 3 users), written for this lever and held out:
it was not used to pick the lever's settings. Writes bench/results/relevance-transliteration.md/.json.

    .venv/bin/python -m bench.retrieval.transliteration [--out bench/results]
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import numpy as np

from bench.common import REPO, offline_arguments, save_rows
from bench.retrieval.relevance import BILINGUAL, CYRILLIC, MULTILINGUAL, LabelledSet, query_vectors, score_set

BORROWINGS = REPO / "bench" / "data" / "borrowings_relevance.json"
SETS = {"bilingual": BILINGUAL, "multilingual": MULTILINGUAL, "borrowings": BORROWINGS}
# Letters as English borrowings are usually spelt back (х -> h, й -> y), not a standard that round-trips.
LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                 "a b v g d e yo zh z i y k l m n o p r s t u f h ts ch sh sch - y - e yu ya".split()))


def transliterated(text: str) -> str:
    out = []
    for ch in text:
        latin = LATIN.get(ch.lower())
        if latin is None:
            out.append(ch)
        elif latin != "-":
            out.append(latin.capitalize() if ch != ch.lower() else latin)
    return "".join(out)


def queries(path: Path) -> list[str]:
    return [q["q"] for u in json.loads(path.read_text())["users"] for q in u["queries"]]


def with_transliteration(labelled: LabelledSet, path: Path, embedder, *, share: float | None = None,
                         discount: float | None = None) -> LabelledSet:
    """The set's cosines for queries with Cyrillic words, recomputed with their transliteration's vector."""
    texts = queries(path)
    for item, query in zip(labelled.items, texts):
        if not CYRILLIC.search(query):
            continue
        ids = list(item.cosines)
        memories = np.array([labelled.vectors[item.user][i] for i in ids])
        latin = embedder._encode([transliterated(query)])[0]
        if share is not None:
            mixed = (1 - share) * query_vectors(embedder, [query])[0] + share * latin
            cosines = memories @ (mixed / np.linalg.norm(mixed))
        else:
            cosines = np.maximum(np.array([item.cosines[i] for i in ids]), memories @ latin - discount)
        item.cosines = dict(zip(ids, cosines.tolist()))
    return labelled


def no_answer_overlap(labelled: LabelledSet, fuse, calibration) -> dict[str, float]:
    """How the best memory of a question with no answer compares with the answers of answerable questions."""
    best_unanswered, answers = [], []
    for item in labelled.items:
        if item.relevant:
            answers.append(max(item.cosines[i] for i in item.relevant))
        else:
            best = fuse(calibration, item.cosines, item.keyword)[0].memory_id
            best_unanswered.append(item.cosines[best])
    unanswered = np.array(best_unanswered)
    answered = np.array(answers)
    return {"no-answer queries": len(unanswered), "their best cosine, median": float(np.median(unanswered)),
            "answers' cosine, median": float(np.median(answered)),
            "answers below that median": float((answered < np.median(unanswered)).mean()),
            "answers below the highest": float((answered < unanswered.max()).mean())}


def main() -> None:
    args = offline_arguments(__doc__)
    from mem0_service.core import ranking
    from mem0_service.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    asyncio.run(embedder.open())
    calibration = LocalEmbedder.calibration
    variants = [("query as written (released)", {}), *[(f"averaged with its transliteration, share {s:g}",
                                                         {"share": s}) for s in (0.2, 0.3, 0.5)],
                *[(f"best of both, transliteration discounted {d:g}", {"discount": d}) for d in (0.0, 0.05, 0.1)]]
    rows = []
    for name, how in variants:
        row: dict = {"name": name}
        for set_name, path in SETS.items():
            labelled = LabelledSet(path, embedder)
            if how:
                with_transliteration(labelled, path, embedder, **how)
            row[set_name] = score_set(labelled.items, ranking.fuse, calibration)
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.append({"name": "no-answer overlap", **{
        set_name: no_answer_overlap(LabelledSet(path, embedder), ranking.fuse, calibration)
        for set_name, path in SETS.items() if set_name != "bilingual"}})
    affected = {name: (sum(bool(CYRILLIC.search(q)) for q in queries(path)), len(queries(path)))
                for name, path in SETS.items()}
    rows.append({"name": "queries with Cyrillic words", **affected})
    save_rows(args.out, "relevance-transliteration", rows, write_report)


def write_report(path: Path, rows: list[dict], machine: str) -> None:
    levers = [r for r in rows if "bilingual" in r and isinstance(r["bilingual"], dict) and "hit@1" in r["bilingual"]]
    overlap = next(r for r in rows if r["name"] == "no-answer overlap")
    affected = next(r for r in rows if r["name"] == "queries with Cyrillic words")
    lines = ["# Cyrillic borrowings and transliteration; questions with no answer",
             "", "Command: `.venv/bin/python -m bench.retrieval.transliteration` (offline replica of the search path, "
             "bundled model, shipped query vector, calibration and fusion).  ", f"Machine: {machine}", "",
             "Two of the bilingual set's four misses are Russian questions that write an English word in Cyrillic "
             "(\"Как устроен процесс деплоя?\", \"Где развернут продакшен?\"); their answers' cosines are 0.014 and "
             "0.012. The lever embeds a question with Cyrillic words a second time, transliterated into Latin letters "
             "(\"Kak ustroen protsess deploya?\"), in the same call. Borrowings set: bench/data/borrowings_relevance.json, "
             "39 Russian questions with borrowings (релиз, бэкенд, дедлайн, подкаст, стартап, дашборд ...) over "
             "short, mostly English memories, written for this lever and held out. Queries with Cyrillic words: "
             + ", ".join(f"{name} {a[0]} of {a[1]}" for name, a in affected.items() if name != "name") + ".", "",
             "| query vector | bilingual hit@1 | bilingual relevant pass | multilingual hit@1 "
             "| multilingual relevant pass | multilingual unrelated pass | borrowings hit@1 | borrowings relevant pass "
             "| borrowings unrelated pass |", "|---" * 9 + "|"]
    for r in levers:
        b, m, w = r["bilingual"], r["multilingual"], r["borrowings"]
        lines.append(f"| {r['name']} | {b['hit@1']:.3f} | {b['relevant']:.1%} | {m['hit@1']:.3f} | {m['relevant']:.1%} "
                     f"| {m['unrelated']:.1%} | {w['hit@1']:.3f} | {w['relevant']:.1%} | {w['unrelated']:.1%} |")
    lines += ["", "Reading: the bundled model already matches most borrowings: on the held-out set, as released, hit@1 "
              "is 0.909 and 97% of the answers pass 0.7, so \"деплой\" and \"продакшен\" are the model's blind spots "
              "rather than the rule. No variant gains a query on the held-out set. Best of both without a discount "
              "wins \"деплоя\" on the bilingual set (hit@1 and relevant pass 0.87 -> 0.90, the issue's target) and "
              "loses six multilingual queries (0.855 -> 0.825): a Russian question's Latin spelling is noise to the "
              "model, and it lifts memories that match the noise. Averaging loses hit@1 on the multilingual and "
              "borrowings sets and wins nothing on the bilingual one. A discount of 0.05 or 0.1 gives back the "
              "bilingual gain and still loses a query or two on the multilingual set. **Rejected**: a gain on the set that "
              "motivated it and nowhere else is overfitting (the rule this project's relevance reports keep).", "",
              "## Can the model tell a question with no answer?", "",
              "Nearly every question with no answer among its user's memories finds one at 0.7 or above (95% on the "
              "multilingual set, relevance-hubs.md). Could a floor on the best raw cosine tell them apart? The best "
              "memory's cosine for questions with no answer, against the answers' cosines of answerable questions:", "",
              "| set | no-answer queries | their best cosine, median | answers' cosine, median | answers below that "
              "median | answers below the highest |", "|---" * 6 + "|"]
    for name in ("multilingual", "borrowings"):
        o = overlap[name]
        answers = o["answers' cosine, median"]
        lines.append(f"| {name} | {o['no-answer queries']} | {o['their best cosine, median']:.3f} | {answers:.3f} "
                     f"| {o['answers below that median']:.0%} | {o['answers below the highest']:.0%} |")
    lines += ["", "A floor that silenced half the questions with no answer would silence a fifth to a third of the "
              "answers too: for the bundled model, a near miss and a weak answer look the same. What could tell them "
              "apart is a stronger model, recalibrated on the user's own labelled file (`mem0-service calibrate`), or "
              "the caller's own threshold; the shipped ranking does not try.", ""]
    path.write_text("\n".join(re.sub(r" +$", "", line) for line in lines) + "\n")


if __name__ == "__main__":
    main()
