import type { IDataObject, ISupplyDataFunctions } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

/**
 * Shows what the memory did in the execution log: each read and write becomes one run of the
 * sub-node in the editor, with what went in and what came out, as for n8n's own memories.
 */
export async function logged<T>(
	ctx: ISupplyDataFunctions,
	input: IDataObject,
	call: () => Promise<T>,
	describe: (result: T) => IDataObject,
): Promise<T> {
	const { index } = ctx.addInputData(NodeConnectionTypes.AiMemory, [[{ json: input }]]);
	let result: T;
	try {
		result = await call();
	} catch (error) {
		const failure =
			error instanceof NodeOperationError ? error : new NodeOperationError(ctx.getNode(), error as Error);
		ctx.addOutputData(NodeConnectionTypes.AiMemory, index, failure);
		throw failure;
	}
	ctx.addOutputData(NodeConnectionTypes.AiMemory, index, [[{ json: describe(result) }]]);
	return result;
}
