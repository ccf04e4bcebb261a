"""The Mem0 Chat Memory sub-node under n8n's AI Agent, through the shipped agent workflows and a fake model:
what the model is shown, what is stored in the service, and that it outlives n8n restarts."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.n8n.service_client import ServiceClient, new_user

pytestmark = pytest.mark.e2e

RECALL_ACKNOWLEDGEMENT = "Noted. I will keep this in mind."  # n8n-node/nodes/Mem0ChatMemory
CHAT_WEBHOOK_ID = "0f7d5a9e-6c1b-4d0a-9a51-3e2b8c7d1f40"  # workflows/n8n/chat-agent-with-memory.json


@pytest.fixture(scope="module")
def service(live_service) -> ServiceClient:
    return ServiceClient(live_service.url, live_service.api_key)


def ask(n8n, user: str, session: str, message: str, path: str = "mem0-agent") -> str:
    response = n8n.webhook(path, {"userId": user, "sessionId": session, "message": message})
    assert response.status_code == 200, f"{response.status_code} {response.text}\n{n8n.log()[-3000:]}"
    body = response.json()
    assert body["sessionId"] == session
    return body["output"]


def model_call_for(fake_openai, message: str) -> list[dict]:
    """The messages the model received in the (last) call whose final user message was `message`."""
    calls = [r["body"]["messages"] for r in fake_openai.requests
             if r["path"].endswith("/chat/completions") and r["body"]["messages"][-1]["content"] == message]
    assert calls, f"the model never received {message!r}"
    return calls[-1]


def conversation(messages: list[dict]) -> list[tuple[str, str]]:
    """(role, text) of everything between the agent's system prompt and the new user message."""
    return [(m["role"], m["content"]) for m in messages[1:-1]]


def tagged(text: str) -> str:
    return f"{text} [{uuid.uuid4().hex[:8]}]"


def test_agent_sees_the_earlier_exchanges_of_the_session(n8n, fake_openai, service):
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    first, second = tagged("My name is Dave."), tagged("What is my name?")

    first_reply = ask(n8n, user, session, first)
    second_reply = ask(n8n, user, session, second)

    messages = model_call_for(fake_openai, second)
    assert messages[0]["role"] == "system"
    assert conversation(messages) == [("user", first), ("assistant", first_reply)]
    # the turns are the session's message log, in the order they were said; no memory is made of them
    assert service.messages_of(user, session) == [
        ("user", first), ("assistant", first_reply), ("user", second), ("assistant", second_reply)]
    assert service.memories_of(user, session_id=session) == []


def test_the_memory_shows_what_it_read_and_saved_in_the_execution(n8n, fake_openai):
    """The editor's view of the Mem0 Chat Memory sub-node in an execution: one run per read and per write."""
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    first = tagged("My favourite city is Porto.")
    first_reply = ask(n8n, user, session, first)
    second = tagged("Which city do I like?")
    ask(n8n, user, session, second)

    runs = n8n.last_execution("mem0HookAgent001")["Mem0 Chat Memory"]
    logged = [(run["inputOverride"]["ai_memory"][0][0]["json"], run["data"]["ai_memory"][0][0]["json"])
              for run in runs]
    assert [given["action"] for given, _ in logged] == ["loadMemoryVariables", "saveContext"]
    shown = logged[0][1]["chatHistory"]
    assert [(m["id"][-1], m["kwargs"]["content"]) for m in shown] == [
        ("HumanMessage", first), ("AIMessage", first_reply)]
    assert logged[1][0]["input"] == {"input": second}


def test_conversation_survives_an_n8n_restart(n8n, fake_openai):
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    first, second = tagged("Remember the number 4711."), tagged("Which number did I mention?")
    first_reply = ask(n8n, user, session, first)

    n8n.restart()  # n8n's own Simple Memory would be empty now

    ask(n8n, user, session, second)
    assert conversation(model_call_for(fake_openai, second)) == [("user", first), ("assistant", first_reply)]


def test_sessions_do_not_see_each_others_conversation(n8n, fake_openai):
    user = new_user()
    ask(n8n, user, "morning", tagged("Book a table for two."))
    question = tagged("Hello again")
    ask(n8n, user, "evening", question)
    assert conversation(model_call_for(fake_openai, question)) == []


def test_only_the_last_exchanges_of_the_context_window_are_shown(n8n, fake_openai):
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    sent = [tagged(f"Message {i}") for i in range(7)]
    replies = [ask(n8n, user, session, message) for message in sent]

    shown = conversation(model_call_for(fake_openai, sent[-1]))
    # the shipped workflow keeps 5 exchanges: messages 1..5 with their replies, oldest first
    expected = [pair for i in range(1, 6) for pair in (("user", sent[i]), ("assistant", replies[i]))]
    assert shown == expected


def test_long_term_memories_of_the_user_are_recalled_in_a_new_session(n8n, fake_openai, service):
    user = new_user()
    service.create(user, "The user is vegetarian and never eats meat", type="preference")
    service.create(new_user(), "The user is vegetarian and never eats meat, says another user", type="preference")

    question = "Do you remember that I am vegetarian and never eat meat?"
    ask(n8n, user, "s-" + uuid.uuid4().hex[:8], question)

    # a user message with the memories and a short reply open the conversation: every chat model accepts that
    opening = ("What you remember about me from earlier conversations (most relevant first):\n"
               "- The user is vegetarian and never eats meat")
    assert conversation(model_call_for(fake_openai, question)) == [
        ("user", opening), ("assistant", RECALL_ACKNOWLEDGEMENT)]


def test_recall_as_a_system_message_for_models_that_accept_several(n8n, fake_openai, service):
    user = new_user()
    service.create(user, "The user is allergic to peanuts", type="fact")
    question = f"Remember that I am allergic to peanuts? [{uuid.uuid4().hex[:6]}]"
    ask(n8n, user, "s1", question, path="mem0-agent-recall-system")

    messages = model_call_for(fake_openai, question)
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    assert messages[1]["content"] == ("Long-term memories about this user (most relevant first):\n"
                                      "- The user is allergic to peanuts")


def test_remember_tool_saves_a_preference_that_later_sessions_recall(n8n, fake_openai, service):
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    fake_openai.queue_chat({"content": None, "tool_calls": [{
        "id": "call_remember_1", "type": "function",
        "function": {"name": "Remember", "arguments": json.dumps(
            {"memory": "The user prefers green tea", "type": "preference"})}}]})
    fake_openai.queue_chat({"content": "Noted: green tea it is."})

    assert ask(n8n, user, session, tagged("I really like green tea.")) == "Noted: green tea it is."

    [saved] = service.memories_of(user, type="preference")
    assert saved["content"] == "The user prefers green tea"
    assert saved["session_id"] == session and saved["metadata"]["source"] == "n8n-agent"
    # the exchange itself is logged once, without the tool call's working notes
    [(_, said), answer] = service.messages_of(user, session)
    assert said.startswith("I really like green tea.") and answer == ("assistant", "Noted: green tea it is.")

    question = "Which tea does the user prefer?"
    ask(n8n, user, "s-" + uuid.uuid4().hex[:8], question)
    [opening, _] = conversation(model_call_for(fake_openai, question))
    assert "- The user prefers green tea" in opening[1].splitlines()


def test_chat_trigger_workflow_keeps_the_chat_and_files_it_under_the_chat_session(n8n, fake_openai, service):
    session = "chat-" + uuid.uuid4().hex[:10]
    first, second = tagged("Hi, I am Ana."), tagged("Who am I?")
    replies = []
    for message in (first, second):
        response = n8n.webhook(f"{CHAT_WEBHOOK_ID}/chat", {"action": "sendMessage", "sessionId": session,
                                                           "chatInput": message})
        assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
        replies.append(response.json()["output"])

    assert conversation(model_call_for(fake_openai, second)) == [("user", first), ("assistant", replies[0])]
    # without a userId in the chat's metadata, the chat session is the user
    assert service.messages_of(session, session) == [
        ("user", first), ("assistant", replies[0]), ("user", second), ("assistant", replies[1])]


def test_chat_trigger_files_the_chat_under_the_user_given_in_the_chats_metadata(n8n, fake_openai, service):
    user, session = new_user(), "chat-" + uuid.uuid4().hex[:10]
    response = n8n.webhook(f"{CHAT_WEBHOOK_ID}/chat", {"action": "sendMessage", "sessionId": session,
                                                       "chatInput": tagged("Hello"), "metadata": {"userId": user}})
    assert response.status_code == 200, response.text
    assert len(service.messages_of(user, session)) == 2
    assert service.messages_of(session, session) == []


def test_chat_memory_manager_reads_inserts_and_clears_the_session(n8n, fake_openai, service):
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    first = tagged("Plan a trip to Porto.")
    reply = ask(n8n, user, session, first)
    learned = service.create(user, "The user prefers window seats", type="preference", session_id=session)

    def manage(path: str, **body) -> list[dict]:
        response = n8n.webhook(path, {"userId": user, "sessionId": session, **body})
        assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
        return response.json()

    [loaded] = manage("mm-load")
    assert loaded["messages"] == [{"human": first, "ai": reply}]

    manage("mm-insert", note="The trip was booked.")
    question = tagged("Anything new?")
    ask(n8n, user, session, question)
    assert conversation(model_call_for(fake_openai, question))[-3:] == [
        ("user", first), ("assistant", reply), ("system", "The trip was booked.")]

    manage("mm-delete-all")
    # the conversation is gone; what was learned in it stays
    assert [m["id"] for m in service.memories_of(user, session_id=session)] == [learned["id"]]


def test_learn_facts_turns_the_conversation_into_lasting_facts(n8n, fake_openai, learning_service):
    service = ServiceClient(learning_service.url, learning_service.api_key)
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]

    def ask_learning(message: str, extraction: str) -> str:
        fake_openai.queue_chat({"content": f"Reply to {message}"})  # the agent's answer comes first
        fake_openai.queue_chat({"content": extraction})  # then the service's fact extraction
        response = n8n.webhook("mem0-agent-learning", {"userId": user, "sessionId": session, "message": message})
        assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
        return response.json()["output"]

    first = tagged("I moved to Porto last year.")
    ask_learning(first, json.dumps({"facts": [{"content": "The user lives in Porto", "type": "fact"}]}))

    extraction_input = fake_openai.chat_requests()[-1]["messages"][-1]["content"]
    assert first in extraction_input and f"Reply to {first}" in extraction_input
    [fact] = service.memories_of(user, type="fact")
    assert fact["content"] == "The user lives in Porto" and fact["session_id"] == session

    second = tagged("Anything else?")
    ask_learning(second, "this is not JSON")  # the service's model fails: extraction is deferred

    pending = [m for m in service.memories_of(user, type="interaction") if m["metadata"].get("extraction") == "pending"]
    assert len(pending) == 1 and second in pending[0]["content"]

    third = tagged("And now?")
    ask_learning(third, json.dumps({"facts": []}))
    # each exchange shows once, although the deferred one is also kept for a later extraction
    assert conversation(model_call_for(fake_openai, third)) == [
        ("user", first), ("assistant", f"Reply to {first}"), ("user", second), ("assistant", f"Reply to {second}")]
    assert service.memories_of(user, type="fact") == [fact]


def test_learn_facts_on_a_service_without_a_chat_model_says_so(n8n, service):
    user = new_user()
    response = n8n.webhook("mem0-agent-learning-no-model", {"userId": user, "sessionId": "s1",
                                                             "message": tagged("I moved to Porto.")})
    assert response.status_code == 200, response.text
    [item] = response.json()
    assert "infer=true needs a chat model" in item["error"], item
    assert service.memories_of(user) == []  # nothing half-saved


def test_exchanges_stored_by_the_earlier_version_are_still_shown(n8n, fake_openai, service):
    """Earlier versions kept each exchange as an interaction memory with its messages in metadata."""
    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    old_question, old_answer = tagged("I have a cat called Mia."), "Mia is a lovely name."
    service.create(user, f"User: {old_question}\nAssistant: {old_answer}", type="interaction", session_id=session,
                   metadata={"source": "n8n", "messages": [{"role": "user", "content": old_question},
                                                           {"role": "assistant", "content": old_answer}]})
    first = tagged("What is my cat called?")
    first_reply = ask(n8n, user, session, first)
    second = tagged("And how old is she?")
    ask(n8n, user, session, second)
    assert conversation(model_call_for(fake_openai, second)) == [
        ("user", old_question), ("assistant", old_answer), ("user", first), ("assistant", first_reply)]


def test_a_conversation_held_in_n8n_continues_in_langchain_with_the_same_turns(n8n, fake_openai, service,
                                                                                 live_service):
    from langchain_core.messages import AIMessage, HumanMessage

    from mem0_langchain import Mem0ChatMessageHistory, Mem0Client

    user, session = new_user(), "s-" + uuid.uuid4().hex[:8]
    first, second = tagged("My name is Dave."), tagged("I live in Lisbon.")
    replies = [ask(n8n, user, session, first), ask(n8n, user, session, second)]

    with Mem0Client(live_service.url, api_key=live_service.api_key) as client:
        history = Mem0ChatMessageHistory(user, session, client=client)
        assert [(type(m), m.text) for m in history.messages] == [
            (HumanMessage, first), (AIMessage, replies[0]), (HumanMessage, second), (AIMessage, replies[1])]
        history.add_messages([HumanMessage(content="Where do I live?"), AIMessage(content="In Lisbon.")])

    # back in n8n, the turns added from LangChain are part of the conversation
    third = tagged("Thanks!")
    ask(n8n, user, session, third)
    assert conversation(model_call_for(fake_openai, third))[-2:] == [
        ("user", "Where do I live?"), ("assistant", "In Lisbon.")]
