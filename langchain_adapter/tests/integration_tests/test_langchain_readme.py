"""The README's Python examples run as written against the live service and print what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)

# For each example (found by a line of its code): patterns its output must contain.
EXPECTED: dict[str, list[str]] = {
    "client.check_auth().authenticated": [r"^ok$", r"^True$"],
    'Mem0Retriever(base_ur="http://localhost:3456"': [
        r"^True$",
        r"^Mem0Retriever got unexpected keyword argument\(s\): 'base_ur' "
        r"\(did you mean 'base_url'\?\)$",
    ],
    "client.iter_all(": [
        r"^mem_\w+ preference \d{4}-\d\d-\d\d",
        r"^0\.\d+ Prefers email notifications$",
        r"^Prefers email and SMS$",
        r"^1 \['Prefers email and SMS'\]$",
        r"^0$",
    ],
    "except Mem0BadRequestError": [
        r"^400 content\nInvalid value for field 'content': must not be empty$",
        r"'field': 'content'",
        r"^404 Not Found: Memory mem_does_not_exist not found$",
    ],
    "client.add_conversation(": [
        r"^skipped \['ADD', 'ADD'\]$",
        r"^2 0$",
        r"^\[\('ADD', 'Likes tea'\), \('UPDATE', 'Likes green tea'\)\]$",
        r"^2\n2\nok$",
    ],
    "async with AsyncMem0Client()": [r"^\['Likes jazz'\]$"],
    'session_id="session456"': [
        r"^Previous context:\n- User asked: My name is Ann\. Answer: Nice to meet you, Ann!$"
    ],
    'chat("I am vegetarian")': [r"^Noted!$"],
    "RunnableWithMessageHistory(": [
        r"^\['Hi, I am Ann', 'Hi Ann!', 'Who am I\?', 'You are Ann\.'\]$"
    ],
    "create_retriever_tool(": [
        r"^0\.\d+ Prefers email notifications$",
        r"^Prefers email notifications$",
    ],
    'store.put(("user123",), "diet"': [
        r"^\{'content': 'Is vegetarian', 'since': 2019\}$",
        r"^\[\('diet', \('[\w-]+',\)\)\]$",
        r"^\[\('[\w-]+',\), \('[\w-]+', 'travel-agent'\)\]$",
        r"^None$",
    ],
    "create_manage_memory_tool(": [r"^\['manage_memory', 'search_memory'\]$"],
    "Mem0RememberTool(": [
        r"^Remembered \(fact\): Is allergic to peanuts$",
        r"^- \(fact\) Is allergic to peanuts$",
    ],
}


def _expected(block: str) -> list[str]:
    found = [patterns for marker, patterns in EXPECTED.items() if marker in block]
    assert len(found) == 1, f"no single expectation for README example:\n{block}"
    return found[0]


def test_every_readme_example_is_checked() -> None:
    assert len(BLOCKS) == len(EXPECTED)
    for block in BLOCKS:
        _expected(block)


@pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
@pytest.mark.parametrize("block", BLOCKS, ids=[f"example-{n}" for n in range(1, len(BLOCKS) + 1)])
def test_readme_example_runs(
    block: str, live_service: Any, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEM0_BASE_URL", live_service.url)
    monkeypatch.setenv("MEM0_API_KEY", live_service.api_key)
    # The examples use the guide's ids; this run gets a user of its own.
    code = block.replace("user123", user_id)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    output = printed.getvalue()
    for pattern in _expected(block):
        assert re.search(pattern, output, flags=re.MULTILINE), f"{pattern!r} not in:\n{output}"
