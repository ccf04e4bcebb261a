"""Search with the chat model's rewrites of the query (rewrite_query, MEM0_QUERY_REWRITE), through the HTTP API.

The fake OpenAI server plays the chat model; embeddings stay on the bundled model, whose blind spots the rewrites
exist for: "домашние животные" (pets) does not find "Anna has a cat named Barsik" at the default threshold."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.api import Api
from tests.support.fixtures import unique_user

ANNA = json.loads((Path(__file__).parents[1] / "data" / "bilingual_paraphrases.json").read_text())["users"][0]
PETS = "Есть ли у пользователя домашние животные?"
CAT = "Anna has a cat named Barsik"
PETS_REWRITES = ["Does the user have pets?", "cat, dog, parrot, hamster, fish"]


def rewrites(*queries: str) -> dict:
    return {"content": json.dumps({"queries": list(queries)}, ensure_ascii=False)}


def anna(api) -> str:
    user = unique_user("anna")
    for content in ANNA["memories"].values():
        api.create(user, content)
    return user


def own_service(service_factory, fake_openai, key: str, **env: str) -> Api:
    """A service of its own whose chat model is the fake, answering only this key: a chat request of another
    service sharing the fake (a job retried in the background) cannot take this test's queued answers."""
    fake_openai.clear()
    fake_openai.script_for(key)
    service = service_factory({"OPENAI_API_KEY": key, "OPENAI_BASE_URL": fake_openai.base_url,
                               "MEM0_EMBEDDER": "local", "MEM0_JOB_RESCAN": "86400", **env})
    return Api(service.url, service.api_key)


def contents(body: dict) -> list[str]:
    return [m["content"] for m in body["memories"]]


def test_a_rewrite_finds_what_the_query_as_written_misses(llm_api, fake_openai):
    user = anna(llm_api)
    plain = llm_api.search(user, PETS, rewrite_query=False, explain=True)
    assert CAT not in contents(plain) and "query_rewrite" not in plain
    assert all(m["explanation"]["matched_query"] is None for m in plain["memories"])
    assert not fake_openai.chat_requests()

    fake_openai.queue_chat(rewrites(*PETS_REWRITES))
    response = llm_api.post("/api/memories/search", json={"user_id": user, "query": PETS, "rewrite_query": True})
    assert "llm;dur=" in response.headers["Server-Timing"]  # what the chat call cost this search
    body = response.json()
    assert body["query_rewrite"] == {"status": "done", "queries": PETS_REWRITES, "reason": None}
    assert contents(body)[0] == CAT and body["memories"][0]["relevance_score"] >= 0.7
    asked = fake_openai.chat_requests()
    assert len(asked) == 1 and asked[0]["messages"][-1]["content"] == PETS
    assert "alternative queries" in asked[0]["messages"][0]["content"]

    again = llm_api.search(user, PETS, rewrite_query=True, explain=True)  # the answer is kept: no second call
    assert len(fake_openai.chat_requests()) == 1
    assert again["query_rewrite"]["queries"] == PETS_REWRITES and contents(again)[0] == CAT
    # the explanation names the alternative that found it
    assert again["memories"][0]["explanation"]["matched_query"] in PETS_REWRITES


def test_a_junk_answer_leaves_the_search_on_the_query_as_written(llm_api, fake_openai):
    user = anna(llm_api)
    query = "Занимается ли пользователь спортом?"
    plain = llm_api.search(user, query, relevance_threshold=0)
    fake_openai.queue_chat({"content": "Sure! Try: pets, cat"})
    fake_openai.queue_chat({"content": '{"queries": "not a list"}'})  # the retry
    body = llm_api.search(user, query, relevance_threshold=0, rewrite_query=True)
    assert body["query_rewrite"]["status"] == "failed" and body["query_rewrite"]["queries"] == []
    assert "junk" in body["query_rewrite"]["reason"]
    assert [(m["id"], m["relevance_score"]) for m in body["memories"]] == \
        [(m["id"], m["relevance_score"]) for m in plain["memories"]]
    # the model is up: the next query asks it again
    fake_openai.queue_chat(rewrites("Does the user do sports?", "running, gym, football"))
    after = llm_api.search(user, "Какой спорт любит Анна?", rewrite_query=True)
    assert after["query_rewrite"]["status"] == "done"


def test_what_the_model_answers_is_cleaned_before_it_is_matched(llm_api, fake_openai):
    """Spaces, control characters, half a surrogate pair (no store holds it: it used to answer 500), the query
    itself, repeats, overlong and surplus alternatives."""
    user = anna(llm_api)
    query = "Какую музыку слушает Анна?"
    fake_openai.queue_chat(rewrites(query, "  What   music does\nAnna \ud83dlisten to?\x00 ", "", "x" * 10_000,
                                    "what music does anna listen to?", *[f"band {n}" for n in range(40)]))
    body = llm_api.search(user, query, rewrite_query=True)
    queries = body["query_rewrite"]["queries"]
    assert queries[0] == "What music does Anna listen to?"
    assert len(queries) == 3 and queries[1] == "x" * 300 and queries[2] == "band 0"
    assert contents(body)[0] == "Anna's favourite band is Radiohead"


def test_identical_searches_at_once_share_one_chat_call(service_factory, fake_openai):
    key = "sk-rewrite-shared-call"
    llm_api = own_service(service_factory, fake_openai, key)
    user = anna(llm_api)
    query = "Что любит слушать Анна?"
    fake_openai.queue_error("/chat/completions", 0, 0.5)  # the model answers after 0.5 s ...
    fake_openai.queue_chat(rewrites("What does Anna like to listen to?", "music, band, songs"))  # ... this
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: llm_api.search(user, query, rewrite_query=True), range(4)))
    ours = [r for r in fake_openai.requests if r["path"].endswith("/chat/completions")
            and {k.lower(): v for k, v in r["headers"].items()}.get("authorization") == f"Bearer {key}"]
    assert len(ours) == 1
    assert all(a["query_rewrite"]["queries"] == ["What does Anna like to listen to?", "music, band, songs"]
               for a in answers)
    assert {contents(a)[0] for a in answers} == {"Anna's favourite band is Radiohead"}


def test_without_a_chat_model_the_search_says_why_it_was_not_rewritten(api):
    user = anna(api)
    body = api.search(user, PETS, rewrite_query=True, relevance_threshold=0)
    assert body["query_rewrite"]["status"] == "skipped" and "OPENAI_API_KEY" in body["query_rewrite"]["reason"]
    assert len(body["memories"]) == 5
    assert "query_rewrite" not in api.search(user, PETS)


def test_rewrite_query_must_be_a_boolean(api):
    response = api.post("/api/memories/search", json={"user_id": "u", "query": "q", "rewrite_query": {"on": 1}})
    assert response.status_code == 400 and response.json()["field"] == "rewrite_query"


def test_the_service_default_rewrites_every_search_surface_and_a_slow_model_is_not_waited_for(service_factory,
                                                                                                fake_openai):
    api = own_service(service_factory, fake_openai, "sk-rewrite-default", MEM0_QUERY_REWRITE="true",
                      MEM0_QUERY_REWRITE_TIMEOUT="0.5")
    user = anna(api)

    fake_openai.queue_chat(rewrites(*PETS_REWRITES))
    body = api.search(user, PETS)  # no rewrite_query: the service's default
    assert body["query_rewrite"]["status"] == "done" and contents(body)[0] == CAT

    fake_openai.queue_chat(rewrites("Does the user do sports?", "running, gym, football, swimming"))
    platform = api.post("/v1/memories/search/", json={"query": "Занимается ли пользователь спортом?",
                                                      "user_id": user})
    assert platform.status_code == 200, platform.text
    assert platform.json()[0]["memory"] == "Anna goes running every morning before work"

    asked = len(fake_openai.chat_requests())
    off = api.search(user, "Где живёт Анна?", rewrite_query=False)
    assert "query_rewrite" not in off and len(fake_openai.chat_requests()) == asked

    for _ in range(3):
        fake_openai.queue_error("/chat/completions", 0, 3)  # answers after 3 s; the search waits 0.5 s
    slow = api.search(user, "Как Анна пьёт кофе?", relevance_threshold=0)
    assert slow["query_rewrite"]["status"] == "failed" and "0.5 s" in slow["query_rewrite"]["reason"]
    assert contents(slow) == contents(api.search(user, "Как Анна пьёт кофе?", relevance_threshold=0,
                                                 rewrite_query=False))
    # while the model rests after failing, searches do not wait for it again
    asked = len(fake_openai.chat_requests())
    resting = api.search(user, "Где живёт Анна?", relevance_threshold=0)
    assert resting["query_rewrite"]["status"] == "failed" and "resume in" in resting["query_rewrite"]["reason"]
    assert len(fake_openai.chat_requests()) == asked and len(resting["memories"]) == 5
    fake_openai.clear()


def test_a_model_outage_is_reported_and_not_asked_again_at_once(service_factory, fake_openai):
    # time enough for the client's own retries (with back-off) of the 500s, however busy the machine
    api = own_service(service_factory, fake_openai, "sk-rewrite-outage", MEM0_QUERY_REWRITE_TIMEOUT="30")
    user = anna(api)
    for _ in range(3):  # the client's own retries of a 500, then ours
        fake_openai.queue_error("/chat/completions", 500)
    body = api.search(user, PETS, relevance_threshold=0, rewrite_query=True)
    assert body["query_rewrite"]["status"] == "failed" and "500" in body["query_rewrite"]["reason"]
    assert contents(body) == contents(api.search(user, PETS, relevance_threshold=0))
    asked = len(fake_openai.chat_requests())
    again = api.search(user, "Какую музыку любит Анна?", rewrite_query=True)
    assert "500" in again["query_rewrite"]["reason"] and "resume in" in again["query_rewrite"]["reason"]
    assert len(fake_openai.chat_requests()) == asked
    fake_openai.clear()
