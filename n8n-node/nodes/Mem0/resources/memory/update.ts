import type { INodeProperties } from 'n8n-workflow';
import { forOperations, jsonObjectValue, memoryIdField, memoryTypeOptions } from './shared';

export const updateDescription: INodeProperties[] = [
	memoryIdField('update', 'The memory to change'),
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		description: 'Only the fields added here change; the others keep their values',
		displayOptions: forOperations('update'),
		options: [
			{
				displayName: 'Content',
				name: 'content',
				type: 'string',
				typeOptions: { rows: 3 },
				default: '',
				description: 'The new text of the memory',
				routing: { send: { type: 'body', property: 'content' } },
			},
			{
				displayName: 'Metadata',
				name: 'metadata',
				type: 'json',
				default: '{}',
				description: 'Replaces the stored metadata object',
				routing: { send: { type: 'body', property: 'metadata', value: jsonObjectValue } },
			},
			{
				displayName: 'Type',
				name: 'memoryType',
				type: 'options',
				options: memoryTypeOptions,
				default: 'fact',
				routing: { send: { type: 'body', property: 'type' } },
			},
		],
	},
];
