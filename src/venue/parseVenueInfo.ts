import { isAddress } from 'viem'
import { ValidationError } from '../core/errors/ValidationError.js'
import type { VenueInfo } from './types.js'

/** PROTOCOL.md §2: how far ahead a deadline may be when the operator does not say. */
export const defaultMaxDeadlineMs = 60_000

const positiveInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0

/**
 * `GET /v1/info` as the worker signs by (PROTOCOL.md §2): the EIP-712 domain, the operator's clock and
 * `maxDeadlineMs` (60000 when left out). An answer missing a field it cannot do without — a wrong
 * OPERATOR_URL answering 200, say — fails here with the field named, not later as NaN deadlines.
 */
export function parseVenueInfo(body: unknown): VenueInfo {
  const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const refuse = (field: string, rule: string): never => { throw new ValidationError(`GET /v1/info: ${field}`, rule) }
  const { name, version, chainId, verifyingContract, serverTime, maxDeadlineMs } = answer
  if (typeof name !== 'string' || name === '') refuse('name', 'must be a non-empty string')
  if (version !== '1') refuse('version', 'must be "1"')
  if (!positiveInteger(chainId)) refuse('chainId', 'must be a positive integer')
  if (typeof verifyingContract !== 'string' || !isAddress(verifyingContract, { strict: false })) refuse('verifyingContract', 'must be a 20-byte hex address')
  if (typeof serverTime !== 'number' || !Number.isFinite(serverTime) || serverTime <= 0) refuse('serverTime', 'must be the operator\'s clock in unix ms')
  if (maxDeadlineMs !== undefined && !positiveInteger(maxDeadlineMs)) refuse('maxDeadlineMs', 'must be a positive integer (ms) when given')
  return {
    name: name as string, version: '1', chainId: chainId as number, verifyingContract: verifyingContract as VenueInfo['verifyingContract'],
    serverTime: serverTime as number, maxDeadlineMs: (maxDeadlineMs as number | undefined) ?? defaultMaxDeadlineMs,
  }
}
