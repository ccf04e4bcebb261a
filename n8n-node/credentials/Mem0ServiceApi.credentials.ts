import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** Base URL and API key of a self-hosted Mem0 memory service. */
export class Mem0ServiceApi implements ICredentialType {
	name = 'mem0ServiceApi';

	displayName = 'Mem0 Service API';

	icon = { light: 'file:mem0.svg', dark: 'file:mem0.dark.svg' } as const;

	documentationUrl = 'https://mem0-service.example/n8n-node#the-credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://localhost:3456',
			placeholder: 'https://mem0.example.com',
			description: 'Where the memory service answers, without the /api suffix',
			required: true,
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The MEM0_API_KEY the service was started with',
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	// The "Test" button: /api/auth/check answers 401 for a wrong key, unlike the public health route.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/api/auth/check',
		},
	};
}
