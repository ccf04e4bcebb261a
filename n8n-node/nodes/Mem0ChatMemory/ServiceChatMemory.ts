import type { IDataObject } from 'n8n-workflow';
import type { ChatRole, IncomingMessage } from './messages';
import { ChatLine, messageRole, messageText } from './messages';
import type { LoggedMessage, MemoryApi, StoredMemory } from './MemoryApi';

/** Runs one memory operation and records it in the execution log (see executionLog.ts). */
export type Journal = <T>(input: IDataObject, call: () => Promise<T>, describe: (result: T) => IDataObject) => Promise<T>;

const serialised = (messages: ChatLine[]) => messages.map((message) => message.toJSON());

export interface ConversationScope {
	userId: string;
	sessionId: string;
	agentId?: string;
}

export interface RecallSettings {
	/** opening: a user message and a short reply before the history; system: one system message. */
	placement: 'opening' | 'system';
	query: string;
	types: string[];
	relevanceThreshold: number;
	limit: number;
}

interface ExchangeLine {
	role: 'user' | 'assistant' | 'system';
	content: string;
}

const MEMORY_KEY = 'chat_history';

export const RECALL_ACKNOWLEDGEMENT = 'Noted. I will keep this in mind.';

/**
 * A session's conversation, kept in the service's message log of the session (the log LangChain's and
 * Flowise's Mem0 memories read and write too, so a conversation can move between them).
 *
 * Earlier versions kept each exchange as an `interaction` memory with its messages in metadata; those
 * are still shown, before the log's messages, and cleared with them.
 */
export class ServiceChatHistory {
	constructor(
		private readonly api: MemoryApi,
		private readonly scope: ConversationScope,
		private readonly windowSize: number,
		private readonly saveExchanges: boolean,
		private readonly learnFacts: boolean,
		private readonly journal: Journal,
	) {}

	async getMessages(): Promise<ChatLine[]> {
		return await this.journal({ action: 'getMessages' }, async () => await this.window(), (response) => ({
			action: 'getMessages',
			response: serialised(response),
		}));
	}

	async addMessage(message: IncomingMessage): Promise<void> {
		await this.addMessages([message]);
	}

	async addMessages(messages: IncomingMessage[]): Promise<void> {
		await this.journal(
			{ action: 'addMessages', messages: messages.map((m) => ({ type: messageRole(m), content: messageText(m) })) },
			async () => await this.store(messages),
			() => ({ action: 'addMessages', saved: this.saveExchanges }),
		);
	}

	async addUserMessage(text: string): Promise<void> {
		await this.addMessages([new ChatLine('user', text)]);
	}

	async addAIChatMessage(text: string): Promise<void> {
		await this.addMessages([new ChatLine('assistant', text)]);
	}

	async addAIMessage(text: string): Promise<void> {
		await this.addAIChatMessage(text);
	}

	/** Forgets this session's conversation. Facts and preferences learned in it stay. */
	async clear(): Promise<void> {
		await this.journal(
			{ action: 'clear' },
			async () => {
				await this.api.clearMessages(this.scope.sessionId, this.owner());
				await this.api.deleteOfUser(this.scope.userId, {
					session_id: this.scope.sessionId,
					type: 'interaction',
					...(this.scope.agentId ? { agent_id: this.scope.agentId } : {}),
				});
			},
			() => ({ action: 'clear' }),
		);
	}

	/** The messages of the last `windowSize` exchanges of the session, oldest first. */
	async window(): Promise<ChatLine[]> {
		if (this.windowSize <= 0) return [];
		const wanted = this.windowSize * 2; // a question and its answer
		const log = await this.api.readMessages(this.scope.sessionId, { ...this.owner(), limit: wanted });
		// Tool results and other roles are working notes of a run, not turns of the conversation.
		const logged = log.messages.filter((m) => CHAT_ROLES.has(m.role)).map(toChatLine);
		if (logged.length >= wanted) return logged;
		const earlier = await this.earlierFormat();
		return [...earlier, ...logged].slice(-wanted);
	}

	private owner(): IDataObject {
		return { user_id: this.scope.userId, ...(this.scope.agentId ? { agent_id: this.scope.agentId } : {}) };
	}

	/** Exchanges stored as `interaction` memories by earlier versions of this node, oldest first. */
	private async earlierFormat(): Promise<ChatLine[]> {
		const page = await this.api.listOfUser(this.scope.userId, {
			session_id: this.scope.sessionId,
			type: 'interaction',
			// room for the copies a deferred extraction leaves, which are skipped below
			limit: this.learnFacts ? this.windowSize * 2 : this.windowSize,
			order: 'desc',
			...(this.scope.agentId ? { agent_id: this.scope.agentId } : {}),
		});
		return page.memories
			.filter((memory) => memory.metadata?.extraction !== 'pending' && Array.isArray(memory.metadata?.messages))
			.slice(0, this.windowSize)
			.reverse()
			.flatMap((memory) => this.toMessages(memory));
	}

	/**
	 * Saves what the user said and the final answer. Tool calls and tool results, which the agent
	 * also passes here, are working notes of one run and are not kept.
	 */
	async store(messages: IncomingMessage[]): Promise<void> {
		if (!this.saveExchanges) return;
		const lines: ExchangeLine[] = [];
		for (const message of messages) {
			const role = messageRole(message);
			const text = messageText(message).trim();
			if (!text) continue;
			if (role === 'human') lines.push({ role: 'user', content: text });
			else if (role === 'system') lines.push({ role: 'system', content: text });
			else if (role === 'ai' && !(message.tool_calls && message.tool_calls.length)) {
				lines.push({ role: 'assistant', content: text });
			}
		}
		// The agent passes the final answer last; earlier AI texts are steps of the same run.
		const lastReply = lines.map((line) => line.role).lastIndexOf('assistant');
		const kept = lines.filter((line, index) => line.role !== 'assistant' || index === lastReply);
		if (!kept.length) return;
		const conversation = kept.filter((line) => line.role !== 'system');
		if (this.learnFacts && conversation.length) {
			// Before the exchange is stored, so the service reconciles the new facts only with older memories.
			// When its model fails, the service keeps the conversation flagged "pending" to retry later.
			await this.api.learn({
				user_id: this.scope.userId,
				session_id: this.scope.sessionId,
				...(this.scope.agentId ? { agent_id: this.scope.agentId } : {}),
				messages: conversation as unknown as IDataObject[],
				metadata: { source: 'n8n' },
			});
		}
		await this.api.appendMessages(this.scope.sessionId, {
			...this.owner(),
			messages: kept.map((line) => ({ ...line, metadata: { source: 'n8n' } })) as unknown as IDataObject[],
		});
	}

	private toMessages(memory: StoredMemory): ChatLine[] {
		const stored = memory.metadata?.messages;
		if (Array.isArray(stored)) {
			return (stored as unknown as ExchangeLine[])
				.filter((line) => line && typeof line.content === 'string')
				.map(
					(line) =>
						new ChatLine(line.role === 'assistant' || line.role === 'system' ? line.role : 'user', line.content),
				);
		}
		return [];
	}
}

const CHAT_ROLES = new Set(['user', 'assistant', 'system']);

function toChatLine(message: LoggedMessage): ChatLine {
	return new ChatLine(message.role as ChatRole, message.content);
}

/**
 * The object n8n's AI Agent talks to (the shape of LangChain's BaseChatMemory): recent exchanges
 * of the session, led by the user's long-term memories that match the current message.
 */
export class ServiceChatMemory {
	readonly memoryKeys = [MEMORY_KEY];

	readonly memoryKey = MEMORY_KEY;

	readonly returnMessages = true;

	readonly inputKey = 'input';

	readonly outputKey = 'output';

	constructor(
		readonly chatHistory: ServiceChatHistory,
		private readonly api: MemoryApi,
		private readonly scope: ConversationScope,
		private readonly journal: Journal,
		private readonly recall?: RecallSettings,
	) {}

	async loadMemoryVariables(values: IDataObject): Promise<Record<string, ChatLine[]>> {
		return await this.journal(
			{ action: 'loadMemoryVariables', values },
			async () => ({ [MEMORY_KEY]: await this.conversation() }),
			(response) => ({ action: 'loadMemoryVariables', chatHistory: serialised(response[MEMORY_KEY]) }),
		);
	}

	async saveContext(inputValues: IDataObject, outputValues: IDataObject): Promise<void> {
		const input = pickText(inputValues, this.inputKey);
		const output = pickText(outputValues, this.outputKey);
		await this.journal(
			{ action: 'saveContext', input: inputValues, output: outputValues },
			async () => await this.chatHistory.store([new ChatLine('user', input), new ChatLine('assistant', output)]),
			() => ({ action: 'saveContext', saved: [input, output] }),
		);
	}

	async clear(): Promise<void> {
		await this.chatHistory.clear();
	}

	/** What the model is shown before the new message. */
	private async conversation(): Promise<ChatLine[]> {
		const [history, recalled] = await Promise.all([this.chatHistory.window(), this.recallMemories()]);
		if (!recalled.length || !this.recall) return history;
		const list = recalled.map((memory) => `- ${memory.content}`).join('\n');
		if (this.recall.placement === 'system') {
			return [new ChatLine('system', `Long-term memories about this user (most relevant first):\n${list}`), ...history];
		}
		// The agent's own system prompt comes first, and several model APIs (Anthropic, Gemini, ...) refuse a
		// second system message: a user message and a reply are understood by every chat model.
		return [
			new ChatLine('user', `What you remember about me from earlier conversations (most relevant first):\n${list}`),
			new ChatLine('assistant', RECALL_ACKNOWLEDGEMENT),
			...history,
		];
	}

	private async recallMemories(): Promise<StoredMemory[]> {
		if (!this.recall || !this.recall.query.trim() || !this.recall.types.length) return [];
		const found = await this.api.search({
			user_id: this.scope.userId,
			query: this.recall.query,
			types: this.recall.types,
			relevance_threshold: this.recall.relevanceThreshold,
			limit: this.recall.limit,
			...(this.scope.agentId ? { agent_id: this.scope.agentId } : {}),
		});
		// This session's exchanges already reach the model through the history.
		return found.memories.filter(
			(memory) => !(memory.type === 'interaction' && memory.session_id === this.scope.sessionId),
		);
	}
}

function pickText(values: IDataObject, key: string): string {
	const value = values[key] ?? Object.values(values)[0];
	return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}
