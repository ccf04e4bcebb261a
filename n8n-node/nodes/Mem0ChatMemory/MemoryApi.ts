import type {
	IDataObject,
	IHttpRequestMethods,
	IN8nHttpFullResponse,
	ISupplyDataFunctions,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

export const CREDENTIAL_TYPE = 'mem0ServiceApi';

export interface StoredMemory {
	id: string;
	user_id: string;
	content: string;
	type: string;
	session_id?: string | null;
	agent_id?: string | null;
	metadata?: IDataObject | null;
	created_at: string;
	relevance_score?: number;
}

interface MemoryList {
	memories: StoredMemory[];
	total: number;
}

/** One message of a session's log; `seq` is its place in the log, given by the service. */
export interface LoggedMessage {
	seq: number;
	role: string;
	content: string;
	name?: string | null;
}

interface MessageLog {
	messages: LoggedMessage[];
	total: number;
	has_more: boolean;
}

const logPath = (sessionId: string) => `/api/sessions/${encodeURIComponent(sessionId)}/messages`;

/** The few service calls the chat memory makes, authenticated with the node's credential. */
export class MemoryApi {
	private baseUrl?: string;

	constructor(private readonly ctx: ISupplyDataFunctions) {}

	async create(body: IDataObject): Promise<StoredMemory> {
		return (await this.request('POST', '/api/memories', { body })) as StoredMemory;
	}

	/** Lets the service's LLM extract lasting facts from a conversation (`infer: true`). */
	async learn(body: IDataObject): Promise<IDataObject> {
		return (await this.request('POST', '/api/memories', { body: { ...body, infer: true } })) as IDataObject;
	}

	async search(body: IDataObject): Promise<MemoryList> {
		return (await this.request('POST', '/api/memories/search', { body })) as MemoryList;
	}

	async listOfUser(userId: string, qs: IDataObject): Promise<MemoryList> {
		return (await this.request('GET', `/api/memories/user/${encodeURIComponent(userId)}`, {
			qs,
		})) as MemoryList;
	}

	/** Appends to the session's message log, which numbers the messages in the order it receives them. */
	async appendMessages(sessionId: string, body: IDataObject): Promise<void> {
		await this.request('POST', logPath(sessionId), { body });
	}

	/** The last `limit` messages of the session's log, oldest first. */
	async readMessages(sessionId: string, qs: IDataObject): Promise<MessageLog> {
		return (await this.request('GET', logPath(sessionId), { qs })) as MessageLog;
	}

	async clearMessages(sessionId: string, qs: IDataObject): Promise<void> {
		await this.request('DELETE', logPath(sessionId), { qs });
	}

	async deleteOfUser(userId: string, qs: IDataObject): Promise<void> {
		await this.request('DELETE', `/api/memories/user/${encodeURIComponent(userId)}`, { qs });
	}

	private async request(
		method: IHttpRequestMethods,
		path: string,
		{ body, qs }: { body?: IDataObject; qs?: IDataObject },
	): Promise<unknown> {
		if (this.baseUrl === undefined) {
			const credentials = await this.ctx.getCredentials(CREDENTIAL_TYPE);
			this.baseUrl = String(credentials.baseUrl ?? '').replace(/\/+$/, '');
		}
		const where = `${method} ${this.baseUrl}${path}`;
		let response: IN8nHttpFullResponse;
		try {
			// Status errors are read below, where the service's JSON error body is still at hand.
			response = (await this.ctx.helpers.httpRequestWithAuthentication.call(this.ctx, CREDENTIAL_TYPE, {
				method,
				url: `${this.baseUrl}${path}`,
				body,
				qs,
				json: true,
				ignoreHttpStatusErrors: true,
				returnFullResponse: true,
			})) as IN8nHttpFullResponse;
		} catch (error) {
			throw new NodeOperationError(this.ctx.getNode(), `Mem0 service: ${describeFailure(error)}`, {
				description: where,
			});
		}
		if (response.statusCode >= 400) {
			const data = (response.body ?? {}) as IDataObject;
			const reason = typeof data.error === 'string' ? data.error : `HTTP ${response.statusCode}`;
			const message = typeof data.message === 'string' ? `${reason}: ${data.message}` : reason;
			throw new NodeOperationError(this.ctx.getNode(), `Mem0 service: ${message}`, { description: where });
		}
		return response.body;
	}
}

/** What went wrong when no answer came back at all. */
function describeFailure(error: { code?: string; cause?: { code?: string }; message?: string }): string {
	const code = error?.code ?? error?.cause?.code;
	if (code === 'ECONNREFUSED') return 'the service refused the connection - is it running?';
	return String(error?.message ?? error);
}
