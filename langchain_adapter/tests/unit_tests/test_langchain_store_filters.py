"""Mem0Store's value filters and namespace conditions, as LangGraph's stores read them."""

from __future__ import annotations

import pytest
from langgraph.store.base import MatchCondition

from mem0_langchain.store import _meets, matches

VALUE = {"kind": "food", "weight": 3, "tags": ["veg"], "detail": {"since": 2019, "by": "chat"}}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"kind": "food"}, True),
        ({"kind": "place"}, False),
        ({"missing": None}, True),
        ({"missing": "x"}, False),
        ({"tags": ["veg"]}, True),
        ({"detail": {"since": 2019}}, True),
        ({"detail": {"since": 2020}}, False),
        ({"detail.by": "chat"}, True),
        ({"weight": {"$gte": 3, "$lt": 4}}, True),
        ({"weight": {"$gt": 3}}, False),
        ({"weight": {"$ne": 2}}, True),
        ({"missing": {"$ne": 2}}, True),
        ({"missing": {"$gt": 2}}, False),
        ({"kind": {"$in": ["food", "drink"]}}, True),
        ({"kind": {"$nin": ["food"]}}, False),
        ({"kind": {"$gt": 3}}, False),  # not comparable: no match rather than an error
        ({"kind": "food", "weight": {"$lte": 2}}, False),
        ({}, True),
    ],
)
def test_filters_match_like_langgraphs_own_stores(condition: dict, expected: bool) -> None:
    assert matches(VALUE, condition) is expected


def test_an_unknown_operator_is_an_error_not_a_silent_miss() -> None:
    with pytest.raises(ValueError, match=r"\$regex"):
        matches(VALUE, {"kind": {"$regex": "f.*"}})


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (MatchCondition("prefix", ("alice",)), True),
        (MatchCondition("prefix", ("alice", "*", "chat-1")), True),
        (MatchCondition("prefix", ("bob",)), False),
        (MatchCondition("suffix", ("chat-1",)), True),
        (MatchCondition("suffix", ("*", "chat-1")), True),
        (MatchCondition("suffix", ("planner",)), False),
        (MatchCondition("prefix", ("alice", "planner", "chat-1", "more")), False),
    ],
)
def test_namespace_conditions(condition: MatchCondition, expected: bool) -> None:
    assert _meets(("alice", "planner", "chat-1"), condition) is expected
