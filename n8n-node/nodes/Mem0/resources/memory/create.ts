import type { INodeProperties } from 'n8n-workflow';
import { forOperations, jsonObjectValue, memoryTypeOptions, userIdField } from './shared';

const show = forOperations('create');

export const createDescription: INodeProperties[] = [
	userIdField(['create'], 'Whose memory this is', true),
	{
		displayName: 'Content',
		name: 'content',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		placeholder: 'The user prefers e-mail notifications',
		description: 'What to remember, as a sentence',
		displayOptions: show,
		routing: { send: { type: 'body', property: 'content' } },
	},
	{
		displayName: 'Type',
		name: 'memoryType',
		type: 'options',
		options: memoryTypeOptions,
		default: 'fact',
		description: 'What kind of memory this is; search can filter by it',
		displayOptions: show,
		routing: { send: { type: 'body', property: 'type' } },
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Agent ID',
				name: 'agentId',
				type: 'string',
				default: '',
				description: 'The AI agent this memory belongs to, when several agents share users',
				routing: { send: { type: 'body', property: 'agent_id' } },
			},
			{
				displayName: 'Metadata',
				name: 'metadata',
				type: 'json',
				default: '{}',
				description: 'Any JSON object to keep with the memory, e.g. {"source": "user_settings"}',
				routing: { send: { type: 'body', property: 'metadata', value: jsonObjectValue } },
			},
			{
				displayName: 'Session ID',
				name: 'sessionId',
				type: 'string',
				default: '',
				description: 'The conversation or session this memory comes from',
				routing: { send: { type: 'body', property: 'session_id' } },
			},
		],
	},
];
