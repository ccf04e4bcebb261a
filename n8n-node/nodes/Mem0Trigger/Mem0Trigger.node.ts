import type {
	IDataObject,
	IHookFunctions,
	IHttpRequestMethods,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import { verifySignature } from './signature';

const CREDENTIAL_TYPE = 'mem0ServiceApi';

interface WebhookState {
	webhookId?: string;
	secret?: string;
}

interface Answer {
	statusCode: number;
	body: IDataObject;
}

/** One call to the service with the node's credential; the status is returned, not thrown, for 404 handling. */
async function call(
	ctx: IHookFunctions,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
): Promise<Answer> {
	const credentials = await ctx.getCredentials(CREDENTIAL_TYPE);
	const baseUrl = String(credentials.baseUrl).replace(/\/+$/, '');
	const response = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_TYPE, {
		method,
		url: baseUrl + path,
		body,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	})) as { statusCode: number; body: IDataObject };
	return { statusCode: response.statusCode, body: response.body ?? {} };
}

function refuse(ctx: IHookFunctions, what: string, answer: Answer): never {
	const message = String(answer.body.message ?? `HTTP ${answer.statusCode}`);
	throw new NodeApiError(ctx.getNode(), answer.body as never, {
		message: `${what}: ${message}`,
		httpCode: String(answer.statusCode),
	});
}

/** Starts a workflow when memories change in a self-hosted Mem0 service (a webhook the node registers). */
export class Mem0Trigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Mem0 Trigger',
		name: 'mem0Trigger',
		icon: { light: 'file:mem0.svg', dark: 'file:mem0.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["events"].join(", ") }}',
		description: 'Starts the workflow when memories are created, updated or deleted',
		defaults: { name: 'Mem0 Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL_TYPE, required: true }],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: ['memory.created', 'memory.updated', 'memory.deleted'],
				options: [
					{ name: 'Extraction Completed', value: 'extraction.completed' },
					{ name: 'Extraction Failed', value: 'extraction.failed' },
					{ name: 'Memory Created', value: 'memory.created' },
					{ name: 'Memory Deleted', value: 'memory.deleted' },
					{ name: 'Memory Updated', value: 'memory.updated' },
				],
				description: 'The changes that start the workflow',
			},
			{
				displayName: 'User ID',
				name: 'userId',
				type: 'string',
				default: '',
				description:
					"Only this user's memories. Empty: every user (needs an admin key; a key bound to a user watches that user).",
			},
			{
				displayName: 'Agent ID',
				name: 'agentId',
				type: 'string',
				default: '',
				description: "Only this agent's memories. Empty: every agent.",
			},
			{
				displayName: 'Memory Types',
				name: 'memoryTypes',
				type: 'multiOptions',
				default: [],
				options: [
					{ name: 'Fact', value: 'fact' },
					{ name: 'Interaction', value: 'interaction' },
					{ name: 'Metadata', value: 'metadata' },
					{ name: 'Pattern', value: 'pattern' },
					{ name: 'Preference', value: 'preference' },
				],
				description: 'Only memories of these types (empty: all). Events without a memory always pass.',
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				if (!state.webhookId) return false;
				const answer = await call(this, 'GET', `/api/webhooks/${encodeURIComponent(state.webhookId)}`);
				if (answer.statusCode === 404) {
					delete state.webhookId;
					delete state.secret;
					return false;
				}
				if (answer.statusCode !== 200) refuse(this, 'Checking the Mem0 webhook failed', answer);
				// a webhook the service disabled after failed deliveries, or one for another URL, is made anew
				if (answer.body.url === this.getNodeWebhookUrl('default') && answer.body.enabled === true) {
					return true;
				}
				await call(this, 'DELETE', `/api/webhooks/${encodeURIComponent(state.webhookId)}`);
				delete state.webhookId;
				delete state.secret;
				return false;
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const body: IDataObject = {
					url: this.getNodeWebhookUrl('default'),
					events: this.getNodeParameter('events') as string[],
					description: `n8n workflow "${this.getWorkflow().name ?? this.getWorkflow().id}"`,
				};
				const userId = (this.getNodeParameter('userId', '') as string).trim();
				const agentId = (this.getNodeParameter('agentId', '') as string).trim();
				if (userId) body.user_id = userId;
				if (agentId) body.agent_id = agentId;
				const answer = await call(this, 'POST', '/api/webhooks', body);
				if (answer.statusCode !== 201) refuse(this, 'Registering the Mem0 webhook failed', answer);
				const state = this.getWorkflowStaticData('node') as WebhookState;
				state.webhookId = String(answer.body.id);
				state.secret = String(answer.body.secret);
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				if (state.webhookId) {
					const answer = await call(this, 'DELETE', `/api/webhooks/${encodeURIComponent(state.webhookId)}`);
					if (answer.statusCode !== 200 && answer.statusCode !== 404) {
						refuse(this, 'Removing the Mem0 webhook failed', answer);
					}
				}
				delete state.webhookId;
				delete state.secret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const state = this.getWorkflowStaticData('node') as WebhookState;
		const request = this.getRequestObject() as unknown as { rawBody?: Buffer };
		const headers = this.getHeaderData() as IDataObject;
		const rawBody = request.rawBody ?? Buffer.from(JSON.stringify(this.getBodyData()));
		const genuine =
			state.secret !== undefined &&
			verifySignature(
				state.secret,
				rawBody,
				headers['x-mem0-timestamp'] as string | undefined,
				headers['x-mem0-signature'] as string | undefined,
				Math.floor(Date.now() / 1000),
			);
		if (!genuine) {
			const response = this.getResponseObject();
			response.status(401).json({ error: 'Unauthorized', message: 'The Mem0 signature does not match' });
			return { noWebhookResponse: true };
		}
		const delivery = this.getBodyData();
		const types = this.getNodeParameter('memoryTypes', []) as string[];
		const memory = (delivery.data as IDataObject | undefined)?.memory as IDataObject | undefined;
		if (types.length > 0 && memory && !types.includes(String(memory.type))) {
			return {}; // acknowledged without running the workflow
		}
		return { workflowData: [this.helpers.returnJsonArray([delivery])] };
	}
}
