import type { INodeProperties } from 'n8n-workflow';
import { forOperations, memoryTypeOptions, splitIntoItemsField, userIdField } from './shared';

const show = forOperations('getAll');

/** Pages of this size when Return All is on: the most GET /api/memories/user/{user_id} answers at once. */
export const LIST_PAGE_SIZE = 1000;

export const getAllDescription: INodeProperties[] = [
	userIdField(['getAll'], 'Whose memories to list'),
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: show,
		routing: { send: { paginate: '={{ $value }}' } },
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: LIST_PAGE_SIZE },
		// The service's own default page size: saved workflows that never set a limit keep getting 10.
		// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-limit
		default: 10,
		description: 'Max number of results to return',
		displayOptions: { show: { ...show.show, returnAll: [false] } },
		routing: { send: { type: 'query', property: 'limit' } },
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Agent ID',
				name: 'agentId',
				type: 'string',
				default: '',
				routing: { send: { type: 'query', property: 'agent_id' } },
			},
			{
				displayName: 'Created Before',
				name: 'createdBefore',
				type: 'dateTime',
				default: '',
				description: 'Only memories created before this moment',
				routing: {
					send: {
						type: 'query',
						property: 'created_before',
						value: '={{ new Date($value).toISOString() }}',
					},
				},
			},
			{
				displayName: 'Offset',
				name: 'offset',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'How many memories to skip, for paging through long lists (ignored with Return All)',
				routing: { send: { type: 'query', property: 'offset' } },
			},
			{
				displayName: 'Order',
				name: 'order',
				type: 'options',
				options: [
					{ name: 'Newest First', value: 'desc' },
					{ name: 'Oldest First', value: 'asc' },
				],
				default: 'desc',
				routing: { send: { type: 'query', property: 'order' } },
			},
			{
				displayName: 'Session ID',
				name: 'sessionId',
				type: 'string',
				default: '',
				routing: { send: { type: 'query', property: 'session_id' } },
			},
			{
				displayName: 'Type',
				name: 'memoryType',
				type: 'options',
				options: memoryTypeOptions,
				default: 'fact',
				routing: { send: { type: 'query', property: 'type' } },
			},
		],
	},
	splitIntoItemsField('getAll', { returnAll: [false] }),
];
