import type { INodeProperties } from 'n8n-workflow';
import { forOperations, userIdField } from './shared';

export const deleteAllDescription: INodeProperties[] = [
	userIdField(['deleteAll'], 'Whose memories to delete. Without a session ID, all of them go.'),
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '',
		description: 'Delete only the memories of this session',
		displayOptions: forOperations('deleteAll'),
		routing: { send: { type: 'query', property: 'session_id', value: '={{ $value || undefined }}' } },
	},
];
