import type { INodeProperties } from 'n8n-workflow';
import { createDescription } from './create';
import { deleteDescription } from './delete';
import { deleteAllDescription } from './deleteAll';
import { getDescription } from './get';
import { LIST_PAGE_SIZE, getAllDescription } from './getAll';
import { searchDescription } from './search';
import { throwOnServiceError } from './shared';
import { updateDescription } from './update';

/** Every memory operation: what it is called, which request it makes, and its fields. */
export const memoryDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['memory'] } },
		options: [
			{
				name: 'Create',
				value: 'create',
				action: 'Create a memory',
				description: 'Remember something about a user',
				routing: {
					request: { method: 'POST', url: '/api/memories' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
			{
				name: 'Delete',
				value: 'delete',
				action: 'Delete a memory',
				description: 'Forget one memory',
				routing: {
					request: { method: 'DELETE', url: '=/api/memories/{{ encodeURIComponent($parameter.memoryId) }}' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
			{
				name: 'Delete All of User',
				value: 'deleteAll',
				action: 'Delete all memories of a user',
				description: 'Forget everything about a user, or one session of theirs',
				routing: {
					request: { method: 'DELETE', url: '=/api/memories/user/{{ encodeURIComponent($parameter.userId) }}' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a memory',
				description: 'Fetch one memory by its ID',
				routing: {
					request: { method: 'GET', url: '=/api/memories/{{ encodeURIComponent($parameter.memoryId) }}' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get memories of a user',
				description: 'List a user\'s memories, newest first',
				routing: {
					request: { method: 'GET', url: '=/api/memories/user/{{ encodeURIComponent($parameter.userId) }}' },
					output: { postReceive: [throwOnServiceError] },
					// Return All: n8n pages with limit/offset until a page comes back short, one item per memory
					operations: {
						pagination: {
							type: 'offset',
							properties: {
								limitParameter: 'limit',
								offsetParameter: 'offset',
								pageSize: LIST_PAGE_SIZE,
								rootProperty: 'memories',
								type: 'query',
							},
						},
					},
				},
			},
			{
				name: 'Search',
				value: 'search',
				action: 'Search memories',
				description: 'Find the memories most relevant to a question',
				routing: {
					request: { method: 'POST', url: '/api/memories/search' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update a memory',
				description: 'Change the content, type or metadata of a memory',
				routing: {
					request: { method: 'PUT', url: '=/api/memories/{{ encodeURIComponent($parameter.memoryId) }}' },
					output: { postReceive: [throwOnServiceError] },
				},
			},
		],
		default: 'search',
	},
	...createDescription,
	...searchDescription,
	...getDescription,
	...updateDescription,
	...deleteDescription,
	...getAllDescription,
	...deleteAllDescription,
];
