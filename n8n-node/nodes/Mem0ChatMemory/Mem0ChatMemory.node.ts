import type {
	INodeType,
	INodeTypeDescription,
	ISupplyDataFunctions,
	SupplyData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { memoryTypeOptions } from '../Mem0/resources/memory/shared';
import { logged } from './executionLog';
import { CREDENTIAL_TYPE, MemoryApi } from './MemoryApi';
import type { Journal, RecallSettings } from './ServiceChatMemory';
import { ServiceChatHistory, ServiceChatMemory } from './ServiceChatMemory';

interface MemoryOptions {
	agentId?: string;
	learnFacts?: boolean;
	recallAs?: 'opening' | 'system';
	saveExchanges?: boolean;
	recallMemories?: boolean;
	recallQuery?: string;
	recallTypes?: string[];
	relevanceThreshold?: number;
	recallLimit?: number;
}

/** Chat memory for n8n's AI Agent that lives in the Mem0 service and survives restarts. */
export class Mem0ChatMemory implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Mem0 Chat Memory',
		name: 'mem0ChatMemory',
		icon: { light: 'file:mem0.svg', dark: 'file:mem0.dark.svg' },
		group: ['transform'],
		subtitle: '={{ "last " + $parameter["contextWindowLength"] + " exchanges" }}',
		version: 1,
		description:
			'Keeps the conversation in the Mem0 service and reminds the agent of what it knows about the user',
		defaults: { name: 'Mem0 Chat Memory' },
		inputs: [],
		outputs: [NodeConnectionTypes.AiMemory],
		outputNames: ['Memory'],
		credentials: [{ name: CREDENTIAL_TYPE, required: true }],
		properties: [
			{
				displayName: 'User ID',
				name: 'userId',
				type: 'string',
				required: true,
				default: '={{ $json.userId || $json.sessionId }}',
				description:
					'Whose memories these are. Use a stable ID (from your login, CRM or webhook body) so that what the agent learns carries over to the user\'s next sessions.',
			},
			{
				displayName: 'Session ID',
				name: 'sessionIdType',
				type: 'options',
				options: [
					{
						name: 'Connected Chat Trigger Node',
						value: 'fromInput',
						description: "Uses the 'sessionId' field the Chat Trigger sends",
					},
					{
						name: 'Define Below',
						value: 'customKey',
						description: 'Use an expression or fixed text',
					},
				],
				default: 'fromInput',
			},
			{
				displayName: 'Key',
				name: 'sessionKey',
				type: 'string',
				required: true,
				default: '',
				description: 'The conversation this message belongs to',
				displayOptions: { show: { sessionIdType: ['customKey'] } },
			},
			{
				displayName: 'Context Window Length',
				name: 'contextWindowLength',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description: 'How many past exchanges (a message and its reply) of this session the model sees',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Agent ID',
						name: 'agentId',
						type: 'string',
						default: '',
						description: 'Keep this agent\'s conversations and recall apart from other agents of the same user',
					},
					{
						displayName: 'Learn Facts From Conversation',
						name: 'learnFacts',
						type: 'boolean',
						default: false,
						description:
							'Whether the service\'s own chat model should extract lasting facts and preferences from each exchange, so later sessions recall them. The service needs a chat model (OPENAI_API_KEY or a compatible server); each answer then waits for one or two extra model calls.',
					},
					{
						displayName: 'Recall As',
						name: 'recallAs',
						type: 'options',
						options: [
							{
								name: 'Opening of the Conversation',
								value: 'opening',
								description:
									'A user message listing the memories and a short reply, before the history. Works with every chat model.',
							},
							{
								name: 'System Message',
								value: 'system',
								description:
									'One extra system message. Only for models that accept several (OpenAI and compatible); Anthropic and Gemini refuse it.',
							},
						],
						default: 'opening',
						description: 'How the recalled memories are shown to the model',
					},
					{
						displayName: 'Recall Limit',
						name: 'recallLimit',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 5,
						description: 'Max number of long-term memories shown to the model',
					},
					{
						displayName: 'Recall Long-Term Memories',
						name: 'recallMemories',
						type: 'boolean',
						default: true,
						description:
							'Whether to search the user\'s memories from all sessions for the current message and show the matches to the model',
					},
					{
						displayName: 'Recall Query',
						name: 'recallQuery',
						type: 'string',
						default: '={{ $json.chatInput }}',
						description: 'What to search long-term memories for; by default the user\'s message',
					},
					{
						displayName: 'Recall Types',
						name: 'recallTypes',
						type: 'multiOptions',
						options: memoryTypeOptions,
						default: ['fact', 'preference'],
						description: 'Which kinds of long-term memories to recall',
					},
					{
						displayName: 'Relevance Threshold',
						name: 'relevanceThreshold',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
						default: 0.7,
						description: 'Only recall memories at least this relevant (0 to 1)',
					},
					{
						displayName: 'Save Conversation',
						name: 'saveExchanges',
						type: 'boolean',
						default: true,
						description:
							'Whether to store each exchange as an interaction memory. Turn off for an agent that may read but not write.',
					},
				],
			},
		],
	};

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		const userId = String(this.getNodeParameter('userId', itemIndex) ?? '').trim();
		const sessionId = resolveSessionId(this, itemIndex);
		if (!userId) {
			throw new NodeOperationError(this.getNode(), 'No user ID', {
				description:
					"Set 'User ID' to the user this conversation belongs to, e.g. {{ $json.userId }} from the trigger",
				itemIndex,
			});
		}
		const windowSize = this.getNodeParameter('contextWindowLength', itemIndex, 5) as number;
		const options = this.getNodeParameter('options', itemIndex, {}) as MemoryOptions;

		const scope = { userId, sessionId, agentId: options.agentId || undefined };
		const recall: RecallSettings | undefined =
			options.recallMemories === false
				? undefined
				: {
						placement: options.recallAs ?? 'opening',
						query: String(options.recallQuery ?? this.evaluateExpression('{{ $json.chatInput }}', itemIndex) ?? ''),
						types: options.recallTypes ?? ['fact', 'preference'],
						relevanceThreshold: options.relevanceThreshold ?? 0.7,
						limit: options.recallLimit ?? 5,
					};

		const journal: Journal = async (input, call, describe) => await logged(this, input, call, describe);
		const api = new MemoryApi(this);
		const history = new ServiceChatHistory(
			api,
			scope,
			windowSize,
			options.saveExchanges !== false,
			options.learnFacts === true,
			journal,
		);
		const memory = new ServiceChatMemory(history, api, scope, journal, recall);
		return { response: memory };
	}
}

function resolveSessionId(ctx: ISupplyDataFunctions, itemIndex: number): string {
	const source = ctx.getNodeParameter('sessionIdType', itemIndex) as string;
	const value =
		source === 'customKey'
			? ctx.getNodeParameter('sessionKey', itemIndex)
			: ctx.evaluateExpression('{{ $json.sessionId }}', itemIndex);
	const sessionId = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
	if (!sessionId) {
		throw new NodeOperationError(ctx.getNode(), 'No session ID found', {
			description:
				source === 'customKey'
					? "The 'Key' parameter is empty for this item"
					: "Expected a 'sessionId' field in the input (the Chat Trigger sends one). To use something else, choose 'Define Below'.",
			itemIndex,
		});
	}
	return sessionId;
}
