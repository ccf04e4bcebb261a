"""A search can explain each memory's relevance_score with the ranking's own terms, on request only."""

from __future__ import annotations

import pytest

USER = "explained"


async def _search(api, query: str, **fields):
    status, body = await api.call("POST", "/api/memories/search",
                                  json={"user_id": USER, "query": query, "relevance_threshold": 0, **fields})
    assert status == 200, body
    return body["memories"]


async def test_explain_answers_the_terms_that_make_the_score(api):
    await api.create(USER, "The user's favourite sport is swimming in the sea")
    await api.create(USER, "Invoice QX-4471 was paid on Monday")
    hits = await _search(api, "which sport does the user like", explain=True)
    assert hits, "the memories should be found"
    for hit in hits:
        why = hit["explanation"]
        assert set(why) == {"matched_by", "cosine", "dense_score", "keyword_evidence", "keyword_term", "context_score",
                            "context_from", "matched_query"}
        assert why["context_score"] == 0 and why["context_from"] is None, "facts stand alone: no conversation context"
        combined = 1 - (1 - why["dense_score"]) * (1 - why["keyword_term"])
        assert hit["relevance_score"] == pytest.approx(combined, abs=2e-4)
    assert hits[0]["content"].startswith("The user's favourite sport")
    assert hits[0]["explanation"]["matched_by"] in ("dense", "both")


async def test_a_rare_shared_word_is_named_as_keyword_evidence(api):
    await api.create(USER, "The parcel went to Zanzibar by boat")
    await api.create(USER, "The user enjoys hiking in the mountains")
    # Keyword scores are BM25: a word has weight only when most memories lack it.
    for other in ("Meeting moved to Thursday", "Prefers email over calls", "Lives in Lisbon", "Has two cats"):
        await api.create("someone-else", other)
    hits = await _search(api, "parcel Zanzibar", explain=True)
    parcel = next(h for h in hits if h["content"].startswith("The parcel"))
    hiking = next(h for h in hits if h["content"].startswith("The user enjoys"))
    assert parcel["explanation"]["keyword_evidence"] > 0 and parcel["explanation"]["keyword_term"] > 0
    assert parcel["explanation"]["matched_by"] == "both"
    assert hiking["explanation"]["keyword_evidence"] == 0 and hiking["explanation"]["matched_by"] == "dense"


async def test_without_explain_the_hits_keep_their_shape(api):
    await api.create(USER, "The user drinks green tea")
    hits = await _search(api, "tea")
    assert hits and all("explanation" not in hit for hit in hits)
    status, recent = await api.call("POST", "/api/memories/search", json={"user_id": USER, "explain": True})
    assert status == 200 and recent["memories"][0]["relevance_score"] is None
    assert "explanation" not in recent["memories"][0]  # no query, no ranking to explain


async def test_explain_must_be_a_boolean_and_the_field_is_named(api):
    status, body = await api.call("POST", "/api/memories/search",
                                  json={"user_id": USER, "query": "tea", "explain": "very"})
    assert status == 400 and body["field"] == "explain"


async def test_the_openapi_document_shows_the_explanation(api):
    status, document = await api.call("GET", "/api/openapi.json", auth=False)
    assert status == 200
    schemas = document["components"]["schemas"]
    assert "explain" in schemas["MemorySearch"]["properties"]
    hit = schemas["SearchHitOut"]["properties"]["explanation"]
    assert "MatchExplanation" in str(hit)
    assert set(schemas["MatchExplanation"]["properties"]) >= {"matched_by", "dense_score", "keyword_term"}


async def test_auth_check_names_the_scope_and_write_access_of_a_key(api):
    reader = await api.key(user_id=USER, access="read")
    status, body = await api.call("GET", "/api/auth/check", key=reader)
    assert status == 200
    assert body == {"authenticated": True, "role": "scoped", "user_id": USER, "agent_id": None, "read_only": True}
    status, body = await api.call("GET", "/api/auth/check")
    assert status == 200 and body["role"] == "admin" and body["read_only"] is False and body["user_id"] is None
