import type { IDataObject, IHttpRequestMethods, ISupplyDataFunctions } from 'n8n-workflow';
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
		try {
			return await this.ctx.helpers.httpRequestWithAuthentication.call(this.ctx, CREDENTIAL_TYPE, {
				method,
				url: `${this.baseUrl}${path}`,
				body,
				qs,
				json: true,
			});
		} catch (error) {
			throw new NodeOperationError(this.ctx.getNode(), `Mem0 service: ${describeFailure(error)}`, {
				description: `${method} ${this.baseUrl}${path}`,
			});
		}
	}
}

/** The service's own error message when it sent one, else what the HTTP client saw. */
function describeFailure(error: any): string {
	const response = error?.response ?? error?.cause?.response;
	const data = response?.data ?? response?.body;
	const status = response?.status ?? response?.statusCode ?? error?.httpCode;
	if (data && typeof data === 'object' && typeof data.message === 'string') {
		return status ? `${data.message} (HTTP ${status})` : data.message;
	}
	if (error?.code === 'ECONNREFUSED') return 'the service refused the connection - is it running?';
	return String(error?.message ?? error);
}
