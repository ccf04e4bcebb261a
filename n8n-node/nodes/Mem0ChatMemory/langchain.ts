import { createRequire } from 'module';

/** The parts of a LangChain message this package reads. */
export interface ChatMessage {
	content: unknown;
	tool_calls?: unknown[];
	getType?(): string;
	_getType?(): string;
}

type MessageClass = new (content: string) => ChatMessage;

export interface LangChainMessages {
	HumanMessage: MessageClass;
	AIMessage: MessageClass;
	SystemMessage: MessageClass;
}

type LogWrapper = <T extends object>(instance: T, context: unknown) => T;

/**
 * Loads modules from the same place n8n's AI Agent loads them.
 *
 * The agent checks messages with `instanceof` against its own copy of @langchain/core, and n8n
 * installs may hold several copies, so this package brings none and borrows the agent's.
 */
function agentRequire(): NodeRequire {
	try {
		return createRequire(require.resolve('@n8n/n8n-nodes-langchain'));
	} catch {
		// n8n puts its own node_modules on NODE_PATH before loading community packages.
		return require;
	}
}

export function loadLangChainMessages(): LangChainMessages {
	return agentRequire()('@langchain/core/messages') as LangChainMessages;
}

/** n8n's wrapper that records memory reads and writes in the execution log; identity if absent. */
export function loadLogWrapper(): LogWrapper {
	try {
		const { logWrapper } = agentRequire()('@n8n/ai-utilities') as { logWrapper?: LogWrapper };
		if (typeof logWrapper === 'function') return logWrapper;
	} catch {
		// Older n8n versions: memory still works, only the execution log shows less.
	}
	return (instance) => instance;
}

export function messageRole(message: ChatMessage): string {
	if (typeof message.getType === 'function') return message.getType();
	if (typeof message._getType === 'function') return message._getType();
	return 'unknown';
}

/** The plain text of a message whose content may be a list of typed parts. */
export function messageText(message: ChatMessage): string {
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
