import type { INodeProperties } from 'n8n-workflow';
import { forOperations, jsonObjectValue, memoryTypeOptions, userIdField } from './shared';

const show = forOperations('create');
/** Shown only when the memory is given as text (the default), or only when it is learned from a conversation. */
const fromContent = { show: { ...show.show, createFrom: ['content'] } };
const fromConversation = { show: { ...show.show, createFrom: ['conversation'] } };

/** Messages as the service expects them: typed-in JSON text or an array from an expression. */
const messagesValue = '={{ typeof $value === "string" ? JSON.parse($value || "[]") : $value }}';

export const createDescription: INodeProperties[] = [
	userIdField(['create'], 'Whose memory this is', true),
	{
		displayName: 'Create From',
		name: 'createFrom',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Content',
				value: 'content',
				description: 'Store one sentence as it is',
			},
			{
				name: 'Conversation',
				value: 'conversation',
				description:
					'Learn from chat messages: the service extracts lasting facts and preferences (needs a chat model on the service) or keeps each message as an interaction',
			},
		],
		default: 'content',
		displayOptions: show,
	},
	{
		displayName: 'Messages',
		name: 'messages',
		type: 'json',
		required: true,
		default: '[\n  {"role": "user", "content": "I moved to Porto last year"},\n  {"role": "assistant", "content": "How do you like it?"}\n]',
		description:
			'The conversation as a JSON array of {"role", "content"} objects, typed in or built with an expression from the incoming data',
		displayOptions: fromConversation,
		routing: { send: { type: 'body', property: 'messages', value: messagesValue } },
	},
	{
		displayName: 'Extract Facts',
		name: 'infer',
		type: 'boolean',
		default: true,
		description:
			'Whether the service extracts facts and preferences with its chat model and reconciles them with what it already knows (added, updated or deleted memories); off: each message is stored as an interaction',
		displayOptions: fromConversation,
		routing: { send: { type: 'body', property: 'infer' } },
	},
	{
		displayName: 'Content',
		name: 'content',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		placeholder: 'The user prefers e-mail notifications',
		description: 'What to remember, as a sentence',
		displayOptions: fromContent,
		routing: { send: { type: 'body', property: 'content' } },
	},
	{
		displayName: 'Type',
		name: 'memoryType',
		type: 'options',
		options: memoryTypeOptions,
		default: 'fact',
		description: 'What kind of memory this is; search can filter by it',
		displayOptions: fromContent,
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
