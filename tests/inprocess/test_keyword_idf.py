"""Keyword evidence weighs a word by how rare it is among the user's memories, on both record stores: names that
every memory of a conversation carries count for little, a word only one memory has counts for much."""

from __future__ import annotations

USER = "conversation"
# A chat stored turn by turn, as LoCoMo's conversations are: the speakers' names are in nearly every memory.
TURNS = [
    "Dana: Marek, my sister called me yesterday about her new job",
    "Marek: Dana, the weather has been rainy all week",
    "Dana: Marek, we adopted a puppy from the shelter",
    "Marek: Dana, my train to work was late again this morning",
    "Dana: Marek, I am thinking about repainting the kitchen",
    "Marek: the concert last night was too loud for me",
    "Dana: I am reading a novel about a lighthouse keeper",
    "Marek: Dana, I went to a pottery class on Saturday",
]
LIGHTHOUSE = TURNS[6]


async def _search(api, query: str, **fields):
    status, body = await api.call("POST", "/api/memories/search", json={"user_id": USER, "query": query, **fields})
    assert status == 200, body
    return body["memories"]


async def _lighthouse_comes_first_on_its_keyword_evidence(api) -> None:
    hits = await _search(api, "Did Dana tell Marek about the lighthouse?", relevance_threshold=0, limit=20, explain=True)
    assert hits[0]["content"] == LIGHTHOUSE
    evidence = {hit["content"]: hit["explanation"]["keyword_evidence"] for hit in hits}
    assert all(evidence[turn] < evidence[LIGHTHOUSE] for turn in TURNS if turn != LIGHTHOUSE)


async def test_a_rare_word_outweighs_names_every_memory_carries(api):
    for turn in TURNS:
        await api.create(USER, turn)
    await _lighthouse_comes_first_on_its_keyword_evidence(api)


async def test_what_is_rare_is_counted_among_the_users_own_memories_not_the_whole_store(api):
    # Other users write about lighthouses all the time and never name Dana or Marek: across the whole store the
    # names are rare and "lighthouse" is common, but in this user's conversation it is the other way round.
    for n in range(30):
        await api.create(f"keeper-{n}", f"The lighthouse on the north cape was repainted in week {n}")
    for turn in TURNS:
        await api.create(USER, turn)
    await _lighthouse_comes_first_on_its_keyword_evidence(api)


async def test_a_memory_sharing_a_word_but_not_the_answer_stays_below_the_default_threshold(api):
    allergy = "The user is allergic to peanuts"
    for content in (allergy, "The user's uncle sells peanuts and almonds at the farmers market",
                    "The user lives in Kazan and works remotely", "The user goes running every morning before work"):
        await api.create("profile", content)
    status, body = await api.call("POST", "/api/memories/search",
                                  json={"user_id": "profile", "query": "Does the user have a peanut allergy?"})
    assert status == 200, body
    assert [hit["content"] for hit in body["memories"]] == [allergy]
