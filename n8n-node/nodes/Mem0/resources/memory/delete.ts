import type { INodeProperties } from 'n8n-workflow';
import { memoryIdField } from './shared';

export const deleteDescription: INodeProperties[] = [memoryIdField('delete', 'The memory to delete')];
