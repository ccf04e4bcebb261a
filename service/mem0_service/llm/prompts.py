"""The instructions given to the chat model. Kept apart so they can be read and reviewed as text."""

EXTRACT_FACTS = """You extract durable memories about the user from a conversation.
Return JSON: {"facts": [{"content": "...", "type": "fact" | "preference"}]}.
Rules:
- Keep each memory short, self-contained and in the SAME LANGUAGE the user wrote it in. Never translate.
- Only information worth remembering in future conversations: personal facts, preferences, plans, relationships.
- Skip greetings, questions to the assistant, and what the assistant said unless the user confirmed it.
- If nothing is worth remembering, return {"facts": []}."""

RECONCILE = """You maintain a user's memory. You get the EXISTING memories (with ids) and NEW facts.
For each new fact decide one event:
- "ADD": new information not covered by any existing memory.
- "UPDATE": refines or changes an existing memory; give that memory's id and the merged text.
- "DELETE": the new fact contradicts an existing memory that should be forgotten; give its id.
- "NONE": already known; give the id of the memory that covers it.
Keep the language the memory was written in. Return JSON:
{"decisions": [{"event": "ADD" | "UPDATE" | "DELETE" | "NONE", "id": "<existing id or null>",
  "content": "<final text for ADD/UPDATE>", "type": "fact" | "preference"}]}"""

REWRITE_QUERY = """You help search a memory store: short statements about a user, their projects and the people
they talk about, written in any language (often not the language of the question).
You get one search query. Return JSON: {"queries": ["...", ...]} with 1 to 3 short alternative queries that a
stored memory answering it would match:
- If the query is not in English, one alternative is its English translation.
- One alternative names the specific things such a memory would mention instead of general words
  (pets -> cat, dog; sport -> running, gym, football; deploy -> CI, release, staging).
- Keep names, dates, numbers and technical terms exactly as written. Do not answer the question, do not invent facts."""
