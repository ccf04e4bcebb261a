"""What a search returns at the default relevance_threshold (0.7), the value the guide's workflows, the n8n and
Flowise nodes and the LangChain memory send: the memory that answers, across languages, and not the ones that
merely share a word or a topic with the question."""

from __future__ import annotations

from tests.support.fixtures import unique_user

PROFILE = {
    "allergy": "The user is allergic to peanuts",
    "uncle": "The user's uncle sells peanuts and almonds at the farmers market",
    "notify": "Пользователь предпочитает получать уведомления по email",
    "city": "The user lives in Kazan and works remotely",
    "cat": "У пользователя есть кошка по имени Барсик",
    "running": "The user goes running every morning before work",
}


def _profile(api) -> tuple[str, dict[str, str]]:
    user = unique_user()
    ids = {key: api.create(user, text)["id"] for key, text in PROFILE.items()}
    return user, ids


def _found(api, user: str, query: str) -> list[str]:
    """Memory ids the default search returns (no relevance_threshold sent: the API's default applies)."""
    body = api.search(user, query, limit=10)
    assert all(m["relevance_score"] >= 0.7 for m in body["memories"])
    return [m["id"] for m in body["memories"]]


def test_a_russian_question_finds_the_english_allergy_at_the_default_threshold(api):
    user, ids = _profile(api)
    found = _found(api, user, "какие продукты нельзя есть")
    assert found and found[0] == ids["allergy"]
    for other in ("notify", "city", "cat", "running"):
        assert ids[other] not in found, other


def test_questions_in_other_languages_find_the_memory_that_answers_and_only_it(api):
    user, ids = _profile(api)
    assert _found(api, user, "Есть ли у пользователя пищевая аллергия?") == [ids["allergy"]]
    assert _found(api, user, "¿Qué alimentos no puede comer el usuario?") == [ids["allergy"]]
    assert _found(api, user, "Welche Lebensmittel verträgt der Nutzer nicht?") == [ids["allergy"]]
    assert _found(api, user, "Где живёт пользователь?") == [ids["city"]]
    assert _found(api, user, "How should we notify the user?") == [ids["notify"]]


def test_a_memory_sharing_the_topic_word_but_not_the_meaning_does_not_pass(api):
    user, ids = _profile(api)
    found = _found(api, user, "Does the user have a peanut allergy?")
    assert found == [ids["allergy"]], "the uncle's peanut stall shares the word, not the answer"


def test_an_explicit_threshold_still_overrides_the_default(api):
    user, ids = _profile(api)
    everything = api.search(user, "какие продукты нельзя есть", relevance_threshold=0.0, limit=10)["memories"]
    assert {m["id"] for m in everything} == set(ids.values())
    assert [m["relevance_score"] for m in everything] == sorted((m["relevance_score"] for m in everything), reverse=True)


HOME = {
    "light": "Пользователь обычно включает свет в спальне в 22:30",
    "wakes": "The user wakes up at 6:45 on weekdays",
    "curtains": "Шторы в гостиной закрываются автоматически на закате",
    "heating": "The user turns the heating down when leaving for work",
    "football": "По выходным пользователь смотрит футбол по телевизору",
    "plants": "The balcony plants need watering every two days",
    "alarm": "Сигнализация включается, когда все ушли из дома",
    "jazz": "The user plays jazz in the kitchen while cooking",
}


def test_naming_the_user_in_the_question_does_not_outrank_the_answer_in_another_language(api):
    """Every fact is about the user, so "the user" in a question must not pull towards the facts that happen to say
    it in the question's language."""
    user = unique_user()
    ids = {key: api.create(user, text)["id"] for key, text in HOME.items()}
    ranked = api.search(user, "What does the user watch on weekends?", relevance_threshold=0.0, limit=10)["memories"]
    assert ranked[0]["id"] == ids["football"], [m["content"] for m in ranked[:3]]
    assert _found(api, user, "What does the user watch on weekends?")[0] == ids["football"]


SOFIA = {
    "pregnant": "София беременна, срок пять месяцев",
    "insomnia": "Sofia often cannot fall asleep and wakes up at 4 am",
    "berlin": "Sofia ist im Mai nach Berlin gezogen",
    "wall": "Sofia painted the wall of her new flat dark green",
    "tea": "София пьёт зелёный чай вместо кофе",
    "tea_set": "Sofia collects antique porcelain tea sets",
    "password": "Sofia wants to be reminded to change her passwords every three months",
    "bike": "Sofia fährt jeden Tag mit dem Fahrrad zur Arbeit",
    "bike_stolen": "У Софии в прошлом году украли велосипед у подъезда",
    "ukulele": "Sofía aprende a tocar el ukelele",
}


def test_a_memory_close_to_all_the_others_does_not_answer_every_question(api):
    """"Sofia moved to Berlin in May" resembles every other memory about Sofia, so it is near any question about
    her; the memory that answers must still come first."""
    user = unique_user()
    ids = {key: api.create(user, text)["id"] for key, text in SOFIA.items()}
    for question, answer in (("Is Sofia expecting a baby?", "pregnant"), ("Ist Sofia schwanger?", "pregnant"),
                             ("¿Cómo va Sofía al trabajo?", "bike"), ("Wurde Sofia etwas gestohlen?", "bike_stolen")):
        ranked = api.search(user, question, relevance_threshold=0.0, limit=3)["memories"]
        assert ranked[0]["id"] == ids[answer], (question, [m["content"] for m in ranked])
