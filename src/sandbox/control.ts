import { isAddress } from 'viem'
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
