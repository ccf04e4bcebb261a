import type { INodeProperties } from 'n8n-workflow';
import { forOperations, memoryTypeOptions, splitIntoItemsField, userIdField } from './shared';

const show = forOperations('search');

export const searchDescription: INodeProperties[] = [
	userIdField(['search'], 'Whose memories to search', true),
	{
		displayName: 'Query',
		name: 'query',
		type: 'string',
		default: '',
		placeholder: 'How does the user want to be notified?',
		description:
			'What to look for, in plain words; memories are matched by meaning. Leave empty to get the most recent memories.',
		displayOptions: show,
		routing: { send: { type: 'body', property: 'query', value: '={{ $value || undefined }}' } },
	},
	{
		displayName: 'Options',
		name: 'searchOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Agent ID',
				name: 'agentId',
				type: 'string',
				default: '',
				description: 'Only memories of this agent',
				routing: { send: { type: 'body', property: 'agent_id' } },
			},
			{
				displayName: 'Limit',
				name: 'limit',
				type: 'number',
				typeOptions: { minValue: 1 },
				// Only prefills the option when it is added; without it the service returns its default of 5.
				default: 50,
				description: 'Max number of results to return',
				routing: { send: { type: 'body', property: 'limit' } },
			},
			{
				displayName: 'Relevance Threshold',
				name: 'relevanceThreshold',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.7,
				description:
					'Only memories at least this relevant (0 to 1). Lower it to get looser matches.',
				routing: { send: { type: 'body', property: 'relevance_threshold' } },
			},
			{
				displayName: 'Rewrite Query',
				name: 'rewriteQuery',
				type: 'boolean',
				default: true,
				description:
					"Whether the service's chat model also writes alternatives of the query (its translation, the specific words an answer would use) that are matched too. Needs a service with a chat model; without one, the search runs on the query as written.",
				routing: { send: { type: 'body', property: 'rewrite_query' } },
			},
			{
				displayName: 'Session ID',
				name: 'sessionId',
				type: 'string',
				default: '',
				description: 'Only memories of this session',
				routing: { send: { type: 'body', property: 'session_id' } },
			},
			{
				displayName: 'Types',
				name: 'types',
				type: 'multiOptions',
				options: memoryTypeOptions,
				default: [],
				description: 'Only memories of these types',
				routing: { send: { type: 'body', property: 'types' } },
			},
		],
	},
	splitIntoItemsField('search'),
];
