"""LangChain classes and real LCEL chains against the live service.

The chat model is a deterministic fake built on langchain_core's ``BaseChatModel``: it
answers "What is my name?" only from what the prompt carries, so a right answer proves
the memory reached the model.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.runnables.history import RunnableWithMessageHistory
from pydantic import Field

from mem0_langchain import Mem0ChatMessageHistory, Mem0Client, Mem0Memory, Mem0Retriever

pytestmark = pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")

NAME = re.compile(r"my name is (\w+)", re.IGNORECASE)


class RecallingChatModel(BaseChatModel):
    """Replies from the conversation it is given, and keeps every prompt it saw."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recalling-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        question = messages[-1].text
        told = NAME.search(question)
        if told:
            reply = f"Nice to meet you, {told.group(1)}."
        elif "what is my name" in question.lower():
            earlier = "\n".join(m.text for m in messages[:-1])
            known = NAME.findall(earlier)
            reply = f"Your name is {known[-1]}." if known else "I don't know your name."
        else:
            reply = "OK."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def _history_chain(
    client: Mem0Client, user_id: str, model: RecallingChatModel
) -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a helpful assistant."),
            MessagesPlaceholder("history"),
            ("human", "{question}"),
        ]
    )
    return RunnableWithMessageHistory(
        prompt | model | StrOutputParser(),
        lambda session_id: Mem0ChatMessageHistory(user_id, session_id, client=client),
        input_messages_key="question",
        history_messages_key="history",
    )


def _ask(chain: Runnable[Any, str], question: str, session_id: str) -> str:
    return chain.invoke({"question": question}, config={"configurable": {"session_id": session_id}})


def test_history_chain_remembers_across_turns_and_a_restart(
    live_service: Any, user_id: str
) -> None:
    client = Mem0Client(live_service.url, api_key=live_service.api_key)
    model = RecallingChatModel()
    chain = _history_chain(client, user_id, model)

    assert _ask(chain, "Hi, my name is Ann.", "chat-1") == "Nice to meet you, Ann."
    assert _ask(chain, "What is my name?", "chat-1") == "Your name is Ann."
    # The second prompt carried the first turn, read back from the service.
    assert [m.text for m in model.prompts[1][1:3]] == [
        "Hi, my name is Ann.",
        "Nice to meet you, Ann.",
    ]

    # A new process would build everything anew: new client, model and chain.
    restarted_model = RecallingChatModel()
    restarted = _history_chain(
        Mem0Client(live_service.url, api_key=live_service.api_key), user_id, restarted_model
    )
    assert _ask(restarted, "What is my name?", "chat-1") == "Your name is Ann."
    assert [type(m) for m in restarted_model.prompts[0]] == [
        SystemMessage,
        HumanMessage,
        AIMessage,
        HumanMessage,
        AIMessage,
        HumanMessage,
    ]
    # Another session of the same user starts blank.
    assert _ask(restarted, "What is my name?", "chat-2") == "I don't know your name."

    # The turns are the session's message log, numbered by the service; no memory was made of them.
    log = client.get_messages("chat-1", user_id=user_id)
    assert [(m.seq, m.role) for m in log.messages] == [
        (seq, role) for seq, role in enumerate(["user", "assistant"] * 3, 1)
    ]
    assert list(client.iter_all(user_id, session_id="chat-1")) == []


def test_history_chain_works_async(live_service: Any, user_id: str) -> None:
    chain = _history_chain(
        Mem0Client(live_service.url, api_key=live_service.api_key), user_id, RecallingChatModel()
    )
    config: Any = {"configurable": {"session_id": "async-chat"}}

    async def scenario() -> list[str]:
        first = await chain.ainvoke({"question": "My name is Olu."}, config=config)
        second = await chain.ainvoke({"question": "What is my name?"}, config=config)
        return [first, second]

    assert asyncio.run(scenario()) == ["Nice to meet you, Olu.", "Your name is Olu."]


def _memory_chain(memory: Mem0Memory, model: RecallingChatModel) -> Callable[[str], str]:
    """The guide's flow in LCEL: load context, answer, save the exchange."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a helpful assistant.\n{history}"), ("human", "{input}")]
    )
    chain = (
        RunnablePassthrough.assign(
            history=lambda inputs: memory.load_memory_variables(inputs)["history"]
        )
        | prompt
        | model
        | StrOutputParser()
    )

    def chat(text: str) -> str:
        answer = chain.invoke({"input": text})
        memory.save_context({"input": text}, {"output": answer})
        return answer

    return chat


def test_mem0_memory_chain_recalls_the_user_in_a_new_session(
    live_service: Any, user_id: str
) -> None:
    def memory(session_id: str | None) -> Mem0Memory:
        client = Mem0Client(live_service.url, api_key=live_service.api_key)
        return Mem0Memory(client=client, user_id=user_id, session_id=session_id)

    first = _memory_chain(memory("monday"), RecallingChatModel())
    assert first("Hello, my name is Ann.") == "Nice to meet you, Ann."
    assert first("I like hiking.") == "OK."

    # A new chain, scoped to the user only: the relevant exchange comes back by search.
    model = RecallingChatModel()
    later = _memory_chain(memory(None), model)
    assert later("What is my name?") == "Your name is Ann."
    system_prompt = model.prompts[0][0].text
    assert (
        "Previous context:\n- User asked: Hello, my name is Ann.. Answer: Nice to meet you, Ann."
        in system_prompt
    )

    # Session scoping: a fresh session of the same user has nothing to load.
    assert (
        _memory_chain(memory("tuesday"), RecallingChatModel())("What is my name?")
        == "I don't know your name."
    )


def test_mem0_memory_returns_messages_and_clears_its_session(
    mem0: Mem0Client, user_id: str
) -> None:
    mem0.add("Allergic to peanuts", user_id=user_id, type="fact", session_id="other")
    memory = Mem0Memory(
        client=mem0, user_id=user_id, session_id="s1", return_messages=True, relevance_threshold=0.0
    )
    memory.save_context({"input": "My dog is Rex"}, {"output": "Rex is a fine name"})
    memory.save_context({"input": "I live in Porto"}, {"output": "Porto is lovely"})

    loaded = memory.load_memory_variables({"input": "Tell me about my dog"})["history"]
    assert loaded == [
        HumanMessage(content="My dog is Rex"),
        AIMessage(content="Rex is a fine name"),
        HumanMessage(content="I live in Porto"),
        AIMessage(content="Porto is lovely"),
    ]

    memory.clear()
    assert memory.load_memory_variables({"input": "Tell me about my dog"}) == {"history": []}
    # Only the session went; the user's other memories stay.
    assert [m.content for m in mem0.iter_all(user_id)] == ["Allergic to peanuts"]


def test_history_keeps_tool_calls_limits_and_clears_only_its_turns(
    mem0: Mem0Client, user_id: str
) -> None:
    history = Mem0ChatMessageHistory(user_id, "tools", client=mem0)
    history.add_messages(
        [
            HumanMessage(content="Weather in Oslo?"),
            AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": "weather",
                        "args": {"city": "Oslo", "units": {"temp": "C"}},
                        "id": "c1",
                    }
                ],
            ),
            ToolMessage(content="-3C", tool_call_id="c1"),
            AIMessage(content="It is -3C in Oslo."),
        ]
    )
    messages = history.messages
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    assert messages[1].tool_calls[0]["args"] == {"city": "Oslo", "units": {"temp": "C"}}  # type: ignore[attr-defined]
    assert messages[2].tool_call_id == "c1"  # type: ignore[attr-defined]

    latest = Mem0ChatMessageHistory(user_id, "tools", client=mem0, max_messages=2).messages
    assert [m.text for m in latest] == ["-3C", "It is -3C in Oslo."]

    mem0.add("Session note", user_id=user_id, type="interaction", session_id="tools")
    history.clear()
    assert history.messages == []
    assert [m.content for m in mem0.iter_all(user_id, session_id="tools")] == ["Session note"]


def test_retriever_returns_scored_documents(mem0: Mem0Client, user_id: str) -> None:
    mem0.add(
        "Prefers email notifications",
        user_id=user_id,
        type="preference",
        metadata={"source": "settings"},
    )
    mem0.add("Has a dog called Rex", user_id=user_id, type="fact")

    retriever = Mem0Retriever(client=mem0, user_id=user_id, relevance_threshold=0.0, limit=2)
    docs = retriever.invoke("How should we notify the user?")
    assert docs[0].page_content == "Prefers email notifications"
    assert docs[0].metadata["type"] == "preference"
    assert docs[0].metadata["memory_metadata"] == {"source": "settings"}
    assert docs[0].id == docs[0].metadata["id"]
    scores = [d.metadata["relevance_score"] for d in docs]
    assert 0.0 < scores[-1] <= scores[0] <= 1.0

    strict = Mem0Retriever(
        client=mem0, user_id=user_id, relevance_threshold=min(scores[0] + 0.001, 1.0)
    )
    assert strict.invoke("How should we notify the user?") == []
    assert (
        Mem0Retriever(client=mem0, user_id=user_id, types=["fact"], relevance_threshold=0.0)
        .invoke("notifications")[0]
        .page_content
        == "Has a dog called Rex"
    )


def test_memory_survives_a_service_restart(service_factory: Any) -> None:
    service = service_factory()
    user_id = f"lc-{secrets.token_hex(6)}"
    chain = _history_chain(
        Mem0Client(service.url, api_key=service.api_key), user_id, RecallingChatModel()
    )
    assert _ask(chain, "My name is Ines.", "s") == "Nice to meet you, Ines."

    service.restart()
    chain = _history_chain(
        Mem0Client(service.url, api_key=service.api_key), user_id, RecallingChatModel()
    )
    assert _ask(chain, "What is my name?", "s") == "Your name is Ines."


def test_agent_scoped_memory_clears_only_its_agent(mem0: Mem0Client, user_id: str) -> None:
    support = Mem0Memory(client=mem0, user_id=user_id, agent_id="support", relevance_threshold=0.0)
    sales = Mem0Memory(client=mem0, user_id=user_id, agent_id="sales", relevance_threshold=0.0)
    support.save_context({"input": "My router is broken"}, {"output": "Let us reboot it"})
    sales.save_context({"input": "I want the premium plan"}, {"output": "Great choice"})

    assert "router" in support.load_memory_variables({"input": "router"})["history"]
    assert "router" not in sales.load_memory_variables({"input": "router"})["history"]

    support.clear()
    assert support.load_memory_variables({"input": "router"}) == {"history": ""}
    assert "premium" in sales.load_memory_variables({"input": "plan"})["history"]


@pytest.mark.filterwarnings("ignore:The class `ConversationChain` was deprecated")
def test_mem0_memory_in_a_classic_conversation_chain(mem0: Mem0Client, user_id: str) -> None:
    from langchain_classic.chains import ConversationChain

    def chain() -> ConversationChain:
        replies = iter([AIMessage(content="Hi Ann!"), AIMessage(content="You are Ann.")])
        return ConversationChain(
            llm=GenericFakeChatModel(messages=replies),
            memory=Mem0Memory(client=mem0, user_id=user_id),
        )

    first = chain().invoke({"input": "My name is Ann"})
    assert first == {"input": "My name is Ann", "history": "", "response": "Hi Ann!"}
    # A new chain object: the context comes from the service.
    second = chain().invoke({"input": "What is my name?"})
    assert second["history"] == "Previous context:\n- User asked: My name is Ann. Answer: Hi Ann!\n"


def test_history_reads_turns_of_the_earlier_format_before_the_log(
    mem0: Mem0Client, user_id: str
) -> None:
    # How earlier versions stored a history: one interaction memory per message, role in metadata.
    for seq, (role, text) in enumerate([("user", "I am Ann"), ("assistant", "Hello Ann")]):
        mem0.add(
            text,
            user_id=user_id,
            type="interaction",
            session_id="old",
            metadata={"role": role, "seq": seq, "source": "langchain"},
        )
    history = Mem0ChatMessageHistory(user_id, "old", client=mem0)
    history.add_messages([HumanMessage(content="Where do I live?")])
    assert [(type(m), m.text) for m in history.messages] == [
        (HumanMessage, "I am Ann"),
        (AIMessage, "Hello Ann"),
        (HumanMessage, "Where do I live?"),
    ]
    log = mem0.get_messages("old", user_id=user_id)
    assert [(m.seq, m.role, m.content) for m in log.messages] == [(1, "user", "Where do I live?")]

    history.clear()
    assert history.messages == []
    assert list(mem0.iter_all(user_id, session_id="old")) == []


def test_a_retriever_with_rewrites_answers_a_question_the_model_alone_misses(
    service_factory: Any, fake_openai: Any
) -> None:
    """The service's chat model (the test suite's fake OpenAI server) rewrites a Russian question
    about pets; the chain's prompt then carries the English memory about a cat."""
    import json
    from pathlib import Path

    key = "sk-langchain-rewrite"
    fake_openai.clear()
    fake_openai.script_for(key)
    service = service_factory(
        {
            "OPENAI_API_KEY": key,
            "OPENAI_BASE_URL": fake_openai.base_url,
            "MEM0_EMBEDDER": "local",
            "MEM0_JOB_RESCAN": "86400",
        }
    )
    profile = Path(__file__).parents[3] / "tests" / "data" / "bilingual_paraphrases.json"
    anna = json.loads(profile.read_text())["users"][0]["memories"].values()
    question = "Есть ли у пользователя домашние животные?"  # noqa: RUF001
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Known about the user:\n{context}"), ("human", "{question}")]
    )

    def chain(retriever: Mem0Retriever) -> Runnable:
        context = retriever | (lambda docs: "\n".join(d.page_content for d in docs))
        return {"context": context, "question": RunnablePassthrough()} | prompt

    with Mem0Client(service.url, api_key=service.api_key) as mem0:
        for content in anna:
            mem0.add(content, user_id="anna")
        plain = chain(Mem0Retriever(client=mem0, user_id="anna")).invoke(question)
        assert "cat" not in plain.messages[0].content
        fake_openai.queue_chat(
            {"content": json.dumps({"queries": ["Does the user have pets?", "cat, dog, parrot"]})}
        )
        rewritten = chain(Mem0Retriever(client=mem0, user_id="anna", rewrite_query=True))
        assert "Anna has a cat named Barsik" in rewritten.invoke(question).messages[0].content
        found = mem0.search(question, user_id="anna", rewrite_query=True)  # the rewrite is kept
        assert found.query_rewrite is not None and found.query_rewrite.status == "done"
        assert found.memories[0].content == "Anna has a cat named Barsik"
    fake_openai.clear()
