import type { INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { memoryDescription } from './resources/memory';

/** Stores, searches and manages memories in a self-hosted Mem0 service (declarative: no execute()). */
export class Mem0Service implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Mem0',
		name: 'mem0Service',
		icon: { light: 'file:mem0.svg', dark: 'file:mem0.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Remember facts and preferences about users and find them again by meaning',
		defaults: { name: 'Mem0' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'mem0ServiceApi', required: true }],
		requestDefaults: {
			// Errors are read by throwOnServiceError, which reports the service's own message.
			ignoreHttpStatusErrors: true,
			baseURL: '={{ $credentials.baseUrl.replace(/\\/+$/, "") }}',
			headers: {
				Accept: 'application/json',
				'Content-Type': 'application/json',
			},
		},
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Memory', value: 'memory' }],
				default: 'memory',
			},
			...memoryDescription,
		],
	};
}
