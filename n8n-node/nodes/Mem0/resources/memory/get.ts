import type { INodeProperties } from 'n8n-workflow';
import { memoryIdField } from './shared';

export const getDescription: INodeProperties[] = [memoryIdField('get', 'The memory to fetch')];
