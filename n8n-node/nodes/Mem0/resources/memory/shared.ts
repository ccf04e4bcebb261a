import type {
	IDataObject,
	IExecuteSingleFunctions,
	IN8nHttpFullResponse,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

/** The memory types the service knows, in the order the guide introduces them. */
export const memoryTypeOptions: INodePropertyOptions[] = [
	{ name: 'Fact', value: 'fact', description: 'Factual information about the user or context' },
	{ name: 'Preference', value: 'preference', description: 'What the user likes or wants' },
	{ name: 'Interaction', value: 'interaction', description: 'A record of a past exchange' },
	{ name: 'Metadata', value: 'metadata', description: 'Extra context, such as the last login' },
	{ name: 'Pattern', value: 'pattern', description: 'A recurring behaviour of the user' },
];

/** Shows a property only for the given memory operations. */
export const forOperations = (...operation: string[]) => ({
	show: { resource: ['memory'], operation },
});

/** user_id goes into the JSON body for create and search, into the path for the per-user routes. */
export const userIdField = (
	operation: string[],
	description: string,
	inBody = false,
): INodeProperties => ({
	displayName: 'User ID',
	name: 'userId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'user123',
	description,
	displayOptions: forOperations(...operation),
	...(inBody ? { routing: { send: { type: 'body' as const, property: 'user_id' } } } : {}),
});

export const memoryIdField = (operation: string, description: string): INodeProperties => ({
	displayName: 'Memory ID',
	name: 'memoryId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'mem_1234567890',
	description,
	displayOptions: forOperations(operation),
});

/** Sends a JSON parameter as an object: n8n hands JSON fields over as text when typed in by hand. */
export const jsonObjectValue = '={{ typeof $value === "string" ? JSON.parse($value || "{}") : $value }}';

/** Turns a {"memories": [...]} answer into one output item per memory when the user asks for it. */
export const splitIntoItemsField = (
	operation: string,
	alsoWhen: Record<string, boolean[]> = {},
): INodeProperties => ({
	displayName: 'Split Into Items',
	name: 'splitIntoItems',
	type: 'boolean',
	default: false,
	description:
		'Whether to output one item per memory instead of one item holding the whole answer (memories and total)',
	displayOptions: { show: { ...forOperations(operation).show, ...alsoWhen } },
	routing: {
		output: {
			postReceive: [
				{
					type: 'rootProperty',
					// with Return All the pages are already split into one item per memory
					enabled: '={{ $value && !$parameter.returnAll }}',
					properties: { property: 'memories' },
				},
			],
		},
	},
});

/**
 * Fails the node with the service's own words ("Not Found: Memory mem_x not found") instead of
 * n8n's generic text for the status code. Requests run with ignoreHttpStatusErrors so this sees them.
 */
export async function throwOnServiceError(
	this: IExecuteSingleFunctions,
	items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	if (response.statusCode < 400) return items;
	const body: IDataObject =
		response.body && typeof response.body === 'object' && !Array.isArray(response.body)
			? (response.body as IDataObject)
			: {};
	const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.statusCode}`;
	const message = typeof body.message === 'string' ? `${reason}: ${body.message}` : reason;
	throw new NodeApiError(this.getNode(), body as JsonObject, {
		message,
		description:
			typeof body.field === 'string'
				? `The service rejected the field '${body.field}'`
				: `The Mem0 service answered with HTTP ${response.statusCode}`,
		httpCode: String(response.statusCode),
	});
}
