import { getAddress, isAddress } from 'viem'
import type { OperatorDomain } from '../core/eip712/types.js'
import { ValidationError } from '../core/errors/ValidationError.js'
import { formatAmount, parseAmount, parsePositiveAmount } from '../core/money/decimal.js'
import { invalid } from './SandboxError.js'
import { setMark } from './engine/setMark.js'
import { balancesView } from './engine/views.js'
import { type SandboxState, balanceOf, walletOf } from './state.js'

function amount(field: string, value: unknown, positive: boolean): bigint {
  try {
    return positive ? parsePositiveAmount(field, value) : parseAmount(field, value)
  } catch (error) {
    throw invalid(error instanceof ValidationError ? error.shortMessage : `${field}: invalid amount`)
  }
}

/** Credits a wallet (sandbox only). Throws InvalidRequest. */
export function fundWallet(state: SandboxState, wallet: unknown, asset: unknown, value: unknown) {
  if (typeof wallet !== 'string' || !isAddress(wallet, { strict: false })) throw invalid('wallet: must be a 20-byte 0x-hex address')
  if (typeof asset !== 'string' || !state.config.assets.includes(asset)) throw invalid(`asset: must be one of ${state.config.assets.join(', ')}`)
  const credited = amount('amount', value, true)
  const account = walletOf(state, wallet.toLowerCase())
  balanceOf(account, asset).total += credited
  return { wallet: account.address, balances: balancesView(state, account) }
}

/** Moves a mark and fills what it crosses (sandbox only). Throws InvalidRequest. */
export function moveMark(state: SandboxState, market: unknown, value: unknown) {
  const found = typeof market === 'string' ? state.config.markets.get(market) : undefined
  if (!found) throw invalid(`market: must be one of ${[...state.config.markets.keys()].join(', ')}`)
  const price = amount('price', value, true)
  if (price % found.tickSize !== 0n) throw invalid(`price: must be a multiple of tickSize ${formatAmount(found.tickSize)}`)
  const fills = setMark(state, found, price)
  return { market: found.market, mark: formatAmount(price), fills }
}

/**
 * Changes the EIP-712 domain the sandbox verifies against and `GET /v1/info` answers, at runtime
 * (sandbox only; a chain migration or a new verifying contract, for the worker's tests). Fields
 * left out keep their value. Delegations already seen stay known (an operator that carried them
 * over): their requests, signed over the old domain, are refused SignerMismatch; a payload first
 * seen afterwards is verified over the new domain. Throws InvalidRequest.
 */
export function changeDomain(state: SandboxState, change: { name?: unknown; chainId?: unknown; verifyingContract?: unknown }): OperatorDomain {
  const { name, chainId, verifyingContract } = change
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 64)) throw invalid('name: must be a string of 1 to 64 characters')
  if (chainId !== undefined && (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)) throw invalid('chainId: must be a positive integer')
  if (verifyingContract !== undefined && (typeof verifyingContract !== 'string' || !isAddress(verifyingContract, { strict: false }))) throw invalid('verifyingContract: must be a 20-byte 0x-hex address')
  const current = state.config.domain
  state.config.domain = {
    name: name ?? current.name,
    version: current.version,
    chainId: chainId ?? current.chainId,
    verifyingContract: verifyingContract === undefined ? current.verifyingContract : getAddress(verifyingContract),
  }
  return state.config.domain
}
