"""A conversation's turns are searched in context: the reply that answers a question is found through the turn
before it, even when the reply shares no word with the question. Facts stand alone."""

from __future__ import annotations

import pytest

from mem0_service.core.ranking import CONTEXT_REACH
from mem0_service.state import SERVICE

USER = "turns"
CHAT = [
    "Dave: That's a great guitar, Calvin! I love the design on it.",
    "Calvin: Thanks! It's an octopus, hand-drawn by a friend of mine.",
    "Dave: How did the shows in Tokyo go last month?",
    "Calvin: Exhausting but wonderful, we played six nights in a row.",
    "Dave: Are you still learning to cook ramen?",
    "Calvin: Yes, my broth finally tastes right after twenty tries.",
]
QUESTION = "What design is on Calvin's guitar?"


async def _turns(api, user: str = USER, session: str = "chat-1", texts: list[str] = CHAT) -> list[str]:
    return [(await api.create(user, text, type="interaction", session_id=session))["id"] for text in texts]


async def _search(api, query: str, user: str = USER, **fields) -> list[dict]:
    status, body = await api.call("POST", "/api/memories/search", json={
        "user_id": user, "query": query, "relevance_threshold": 0, "limit": 10, "explain": True, **fields})
    assert status == 200, body
    return body["memories"]


async def test_the_reply_after_a_matching_turn_is_found_through_it(api):
    ids = await _turns(api)
    hits = await _search(api, QUESTION)
    ranked = [h["id"] for h in hits]
    assert ranked[:2] == ids[:2], [h["content"] for h in hits[:3]]
    reply = hits[1]["explanation"]
    assert reply["matched_by"] == "context" and reply["context_from"] == ids[0]
    assert hits[1]["relevance_score"] == reply["context_score"]
    assert reply["context_score"] == pytest.approx(0.75 * hits[0]["relevance_score"], abs=2e-4)


async def test_context_stays_within_one_conversation(api):
    first = await _turns(api, session="chat-1", texts=CHAT[:1])
    # The same reply stored in another session, and by another user in the same session name, has no such neighbour.
    other_session = await _turns(api, session="chat-2", texts=CHAT[1:2])
    other_user = await _turns(api, user="someone-else", session="chat-1", texts=CHAT[1:2])
    hits = {h["id"]: h["explanation"] for h in await _search(api, QUESTION)}
    assert first[0] in hits
    assert hits[other_session[0]]["context_score"] == 0 and hits[other_session[0]]["matched_by"] != "context"
    assert other_user[0] not in hits


async def test_facts_neither_lend_nor_borrow_context(api):
    guitar = await api.create(USER, "Calvin's guitar has a custom design", session_id="chat-1")
    reply = await _turns(api, texts=CHAT[1:2])
    hits = {h["id"]: h for h in await _search(api, QUESTION)}
    assert hits[guitar["id"]]["explanation"]["context_score"] == 0
    assert hits[reply[0]]["explanation"]["context_score"] == 0, "a fact is not a turn of the conversation"


async def test_a_deleted_turn_no_longer_lends(api):
    ids = await _turns(api, texts=CHAT[:2])
    status, _ = await api.call("DELETE", f"/api/memories/{ids[0]}")
    assert status in (200, 204)
    hits = await _search(api, QUESTION)
    assert [h["id"] for h in hits] == [ids[1]] and hits[0]["explanation"]["context_score"] == 0


async def test_a_session_scoped_search_reads_the_same_context(api):
    ids = await _turns(api)
    hits = await _search(api, QUESTION, session_id="chat-1")
    assert [h["id"] for h in hits[:2]] == ids[:2]
    assert hits[1]["explanation"]["context_from"] == ids[0]


async def test_the_answer_after_a_short_acknowledgement_is_still_in_context(api):
    ids = await _turns(api, texts=["Dave: Who built the treehouse in your garden, Calvin?", "Calvin: Ha, good question!",
                                   "Calvin: My grandfather, back in 1968.", "Dave: Shall we order pizza tonight?"])
    hits = {h["id"]: h["explanation"] for h in await _search(api, "Who built Calvin's treehouse?")}
    assert hits[ids[2]]["matched_by"] == "context" and hits[ids[2]]["context_from"] == ids[0]


async def test_turns_stored_in_one_batch_keep_their_order(api):
    """A batch gives every turn the same created_at: the ids keep the order the turns were sent in."""
    status, body = await api.call("POST", "/api/memories/batch", json={"memories": [
        {"user_id": USER, "content": text, "type": "interaction", "session_id": "chat-9"} for text in CHAT]})
    assert status == 201, body
    ids = [item["memory"]["id"] for item in body["results"]]
    hits = await _search(api, QUESTION)
    assert [h["id"] for h in hits[:2]] == ids[:2]
    assert hits[1]["explanation"]["context_from"] == ids[0]


async def test_a_search_kept_to_other_types_reads_no_turns_and_finds_the_same(api, monkeypatch):
    """Only turns lend or borrow context: a search whose types leave interactions out does not ask the record store
    for neighbouring turns, and finds what it finds for a user whose same texts are no conversation."""
    await _turns(api)
    # The twin holds the same texts, the chat's as patterns (no turns, no neighbours): the same keyword statistics.
    for text in CHAT:
        await api.create("twin", text, type="pattern", session_id="chat-1")
    for user in (USER, "twin"):
        await api.create(user, "Calvin's guitar has a custom octopus design", type="fact")
        await api.create(user, "Calvin played six nights in a row in Tokyo", type="fact")
        await api.create(user, "Calvin prefers hand-drawn designs", type="preference")
    store = api.client.app[SERVICE].store
    asked: list[list[str]] = []
    adjacent_turns = store.adjacent_turns

    async def counted(ids: list[str], *, reach: int = 1) -> dict[str, list[str]]:
        asked.append(ids)
        return await adjacent_turns(ids, reach=reach)

    monkeypatch.setattr(store, "adjacent_turns", counted)
    assert "interaction" in {h["type"] for h in await _search(api, QUESTION)}
    assert len(asked) == 1, "a search over every type reads the turns around its best candidates"
    await _search(api, QUESTION, types=["fact", "interaction"])
    assert len(asked) == 2

    def found(hits: list[dict]) -> list[tuple]:
        return [(h["content"], h["type"], h["relevance_score"], h["explanation"]) for h in hits]

    kept = await _search(api, QUESTION, types=["fact", "preference"])
    assert len(asked) == 2, "a search kept to facts and preferences read the neighbouring turns"
    assert {h["type"] for h in kept} == {"fact", "preference"} and len(kept) == 3
    # What the look-up would have found for these candidates: nothing to lend, the ranking stands as it is.
    assert await adjacent_turns([h["id"] for h in kept], reach=CONTEXT_REACH) == {}
    assert found(kept) == found(await _search(api, QUESTION, user="twin", types=["fact", "preference"]))
    assert all(h["explanation"]["context_score"] == 0 for h in kept)
