/**
 * Chat messages without LangChain.
 *
 * The package brings no LangChain of its own (n8n Cloud allows no runtime dependencies), and n8n's AI
 * Agent would not accept messages built from another copy anyway. So the memory hands the agent plain
 * `{ role, content }` messages: the agent's prompt (a LangChain `MessagesPlaceholder`) turns each of
 * them into a message of its own LangChain. The few methods below are what n8n's other memory
 * consumers call on a message: the Chat Memory Manager (`getType`, `toJSON`) and the Chat Trigger's
 * "load previous session" (`toJSON`).
 */

export type ChatRole = 'user' | 'assistant' | 'system';

/** LangChain's names for the roles, used by `getType()` and in the serialised form. */
const LANGCHAIN_TYPE: Record<ChatRole, { type: string; className: string }> = {
	user: { type: 'human', className: 'HumanMessage' },
	assistant: { type: 'ai', className: 'AIMessage' },
	system: { type: 'system', className: 'SystemMessage' },
};

export class ChatLine {
	// Only `role` and `content` are own fields: LangChain copies every own field into the message it makes.
	constructor(
		readonly role: ChatRole,
		readonly content: string,
	) {}

	getType(): string {
		return LANGCHAIN_TYPE[this.role].type;
	}

	/** The form LangChain serialises a message to, which n8n's chat window and Memory Manager read. */
	toJSON() {
		return {
			lc: 1,
			type: 'constructor',
			id: ['langchain_core', 'messages', LANGCHAIN_TYPE[this.role].className],
			kwargs: { content: this.content, additional_kwargs: {}, response_metadata: {} },
		};
	}
}

/** What this package reads from a message it is given: a LangChain message of the agent, or a ChatLine. */
export interface IncomingMessage {
	content?: unknown;
	role?: unknown;
	tool_calls?: unknown[];
	getType?(): string;
	_getType?(): string;
}

/** human / ai / system / tool ..., whichever way the message tells it. */
export function messageRole(message: IncomingMessage): string {
	if (typeof message.getType === 'function') return message.getType();
	if (typeof message._getType === 'function') return message._getType();
	if (message.role === 'user') return 'human';
	if (message.role === 'assistant') return 'ai';
	return typeof message.role === 'string' ? message.role : 'unknown';
}

/** The plain text of a message whose content may be a list of typed parts. */
export function messageText(message: IncomingMessage): string {
	const { content } = message;
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) {
		return content
			.map((part) =>
				typeof part === 'string'
					? part
					: part && typeof part === 'object' && 'text' in part && typeof part.text === 'string'
						? part.text
						: '',
			)
			.join('');
	}
	return '';
}
