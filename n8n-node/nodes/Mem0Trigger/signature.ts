/// <reference types="node" />
import { createHmac, timingSafeEqual } from 'crypto';

/** Deliveries signed longer ago than this are refused, so a captured request cannot be replayed later. */
export const TOLERANCE_SECONDS = 300;

/**
 * The service signs "<timestamp>.<raw body>" with HMAC-SHA256 and sends `X-Mem0-Signature: v1=<hex>` and
 * `X-Mem0-Timestamp: <unix seconds>`. True when both match the webhook's secret.
 */
export function verifySignature(
	secret: string,
	rawBody: Buffer,
	timestamp: string | undefined,
	signature: string | undefined,
	nowSeconds: number,
): boolean {
	if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
	if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;
	const expected = Buffer.from(
		'v1=' +
			createHmac('sha256', secret)
				.update(`${timestamp}.`)
				.update(rawBody)
				.digest('hex'),
	);
	const sent = Buffer.from(signature);
	return sent.length === expected.length && timingSafeEqual(sent, expected);
}
