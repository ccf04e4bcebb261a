"""A tool-calling loop that remembers in one conversation and recalls in a later one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from mem0_langchain import Mem0Client, Mem0RecallTool, Mem0RememberTool


def _run_agent(
    model: GenericFakeChatModel, tools: Sequence[BaseTool], question: str
) -> list[BaseMessage]:
    """The loop an agent runtime runs: call the model, run the tools it asks for, repeat."""
    by_name = {tool.name: tool for tool in tools}
    messages: list[BaseMessage] = [HumanMessage(content=question)]
    while True:
        reply = model.invoke(messages)
        messages.append(reply)
        if not isinstance(reply, AIMessage) or not reply.tool_calls:
            return messages
        for call in reply.tool_calls:
            messages.append(by_name[call["name"]].invoke({**call, "type": "tool_call"}))


def _tools(live_service: Any, user_id: str) -> list[BaseTool]:
    client = Mem0Client(live_service.url, api_key=live_service.api_key)
    return [
        Mem0RememberTool(client=client, user_id=user_id),
        Mem0RecallTool(client=client, user_id=user_id, relevance_threshold=0.3),
    ]


def test_agent_remembers_with_a_tool_and_recalls_in_a_new_conversation(
    live_service: Any, user_id: str
) -> None:
    first_model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": "remember",
                            "args": {"content": "Is allergic to peanuts", "type": "fact"},
                            "id": "c1",
                        }
                    ],
                ),
                AIMessage(content="Got it, no peanuts."),
            ]
        )
    )
    first = _run_agent(first_model, _tools(live_service, user_id), "I'm allergic to peanuts.")
    assert [m.text for m in first if isinstance(m, ToolMessage)] == [
        "Remembered (fact): Is allergic to peanuts"
    ]

    # Later: new tools, new client, new model. The answer comes from the service.
    later_model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "recall", "args": {"query": "food allergies"}, "id": "c2"}
                    ],
                ),
                AIMessage(content="How about an apple?"),
            ]
        )
    )
    later = _run_agent(later_model, _tools(live_service, user_id), "Suggest a snack.")
    recalled = [m.text for m in later if isinstance(m, ToolMessage)]
    assert recalled == ["- (fact) Is allergic to peanuts"]

    other_user = _run_agent(
        GenericFakeChatModel(
            messages=iter(
                [
                    AIMessage(
                        content="",
                        tool_calls=[
                            {"name": "recall", "args": {"query": "food allergies"}, "id": "c3"}
                        ],
                    ),
                    AIMessage(content="Anything you like."),
                ]
            )
        ),
        _tools(live_service, user_id + "-other"),
        "Suggest a snack.",
    )
    assert [m.text for m in other_user if isinstance(m, ToolMessage)] == [
        "Nothing relevant is remembered about the user."
    ]
