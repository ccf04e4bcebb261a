"""LoCoMo (Maharana et al., 2024) loaded into plain structures: dialogue turns and evidence questions.

The data set is read from the path given; nothing of it is copied into the repository."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "locomo" / "locomo10.json"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
DIA_ID = re.compile(r"D\d+:\d+")


@dataclass(frozen=True)
class Turn:
    conversation: str
    dia_id: str
    session: int
    session_date: str
    content: str


@dataclass(frozen=True)
class Question:
    conversation: str
    text: str
    evidence: frozenset[str]
    category: int


def load(path: Path) -> tuple[dict[str, list[Turn]], list[Question]]:
    """Turns per conversation (in dialogue order) and every question that names evidence turns."""
    samples = json.loads(Path(path).read_text())
    turns: dict[str, list[Turn]] = {}
    questions: list[Question] = []
    for sample in samples:
        conv_id = sample["sample_id"]
        conv = sample["conversation"]
        sessions = sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k))
        rows: list[Turn] = []
        for n in sessions:
            date = conv.get(f"session_{n}_date_time", "")
            for turn in conv[f"session_{n}"]:
                rows.append(Turn(conv_id, turn["dia_id"], n, date, f"{turn['speaker']}: {turn['text']}"))
        turns[conv_id] = rows
        known = {t.dia_id for t in rows}
        for qa in sample["qa"]:
            # Evidence fields are sometimes several ids in one string ("D8:6; D9:17") or malformed ("D:11:26").
            evidence = frozenset(e for raw in qa.get("evidence", []) for e in DIA_ID.findall(raw.replace("D:", "D"))
                                 if e in known)
            if evidence:
                questions.append(Question(conv_id, qa["question"], evidence, int(qa["category"])))
    return turns, questions
