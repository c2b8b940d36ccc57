import { type Command, Option } from 'commander'
import type { ApiClient } from '../ApiClient.js'
import { clientAction } from '../context.js'
import { CliError, exitCodes } from '../errors.js'
import { type Output, singleLine, shortId, table } from '../output.js'
import { pollUntil } from '../pollUntil.js'
import type { OrderDto, OrderWithFillsDto, QueuedDto, WorkDto } from '../types.js'
import { type WaitOptions, waitForWork, waitOptions } from '../waitForWork.js'

const settled = ['open', 'partially_filled', 'filled', 'cancelled', 'rejected']

export const orderLine = (o: OrderDto) =>
  `order ${o.id}  ${o.side} ${o.size} ${o.market} @ ${o.price} ${o.timeInForce ?? 'TIF unknown'}  ${o.state}${o.cancelReason ? ` (${singleLine(o.cancelReason)})` : ''}` +
  `${o.filled !== '0' ? `  filled ${o.filled} avg ${o.averagePrice}` : ''}${o.rejectCode ? `  (${singleLine(o.rejectCode)}: ${singleLine(o.rejectReason ?? '')})` : ''}` +
  // A rotation cancelled it and placed the rest again: the order to follow.
  `${o.replacedBy ? `  replaced by ${o.replacedBy}` : ''}` +
  // Reconciliation recorded it from the operator's read (ORPHAN_POLICY): Deputy did not place it.
  `${o.adoptedAt ? '  adopted (not placed by Deputy)' : ''}`

export function orderTable(orders: readonly OrderDto[]): string {
  return table(['ORDER', 'WALLET', 'MARKET', 'SIDE', 'PRICE', 'SIZE', 'FILLED', 'STATE'], orders.map((o) => [shortId(o.id), shortId(o.walletId), o.market, o.side, o.price, o.size, o.filled, o.state]))
}

/**
 * Polls the order until `done` holds, reporting each state it passes through
 * (stderr). A rejected order or a timeout is a failed operation (exit 1).
 */
function waitFor(api: ApiClient, out: Output, orderId: string, done: (o: OrderWithFillsDto) => boolean, timeoutSeconds: number): Promise<OrderWithFillsDto> {
  return pollUntil(out, timeoutSeconds, {
    read: () => api.get<OrderWithFillsDto>(`/v1/orders/${encodeURIComponent(orderId)}`),
    seen: (order) => `${order.state} ${order.price}x${order.size} filled ${order.filled}`,
    progress: (order) => `  ${shortId(order.id)}: ${order.state}${order.filled !== '0' ? ` (filled ${order.filled})` : ''}`,
    done: (order) => {
      if (order.state === 'rejected') throw new CliError(exitCodes.failed, `the operator rejected order ${order.id}: ${order.rejectCode ?? ''} ${order.rejectReason ?? ''}`.trim(), { code: 'ORDER.REJECTED' })
      return done(order)
    },
    stillWaiting: (order) => `order ${order.id} is still ${order.state} after ${timeoutSeconds}s`,
  })
}

const workLine = (w: WorkDto) =>
  `${w.kind} ${w.outboxId}  ${w.status}${w.accepted ? '  accepted by the operator' : ''}${w.note ? `  (${singleLine(w.note)})` : ''}`

export function orderCommands(program: Command): void {
  const order = program.command('order').description('limit orders')
  waitOptions(order.command('place <walletId>').description('place a limit order')
    .requiredOption('--market <market>', 'e.g. ETH-USD')
    .addOption(new Option('--side <side>', 'buy or sell').choices(['buy', 'sell']).makeOptionMandatory())
    .requiredOption('--price <price>', 'limit price (decimal)')
    .requiredOption('--size <size>', 'base amount (decimal)')
    .addOption(new Option('--tif <timeInForce>', 'time in force').choices(['GTC', 'IOC', 'POST_ONLY']))
    .option('--good-till <time>', 'cancel at this ISO 8601 time if still resting')
    .option('--ref <clientRef>', 'your reference; placing again with it answers the first order'))
    .action(clientAction(async ({ api, out }, options: WaitOptions & { market: string; side: string; price: string; size: string; tif?: string; goodTill?: string; ref?: string }, walletId: string) => {
      const placed = await api.post<OrderDto>(`/v1/wallets/${encodeURIComponent(walletId)}/orders`, {
        market: options.market, side: options.side, price: options.price, size: options.size,
        ...(options.tif ? { timeInForce: options.tif } : {}), ...(options.goodTill ? { goodTill: options.goodTill } : {}), ...(options.ref ? { clientRef: options.ref } : {}),
      })
      if (!options.wait) return out.result(placed, () => orderLine(placed))
      out.progress(`order ${placed.id} queued; waiting for the operator…`)
      const final = await waitFor(api, out, placed.id, (o) => settled.includes(o.state), options.timeout)
      out.result(final, () => orderLine(final))
    }))
  waitOptions(order.command('modify <orderId>').description('change the price and size of a working order')
    .requiredOption('--price <price>', 'new limit price').requiredOption('--size <size>', 'new size'))
    .action(clientAction(async ({ api, out }, options: WaitOptions & { price: string; size: string }, orderId: string) => {
      const queued = await api.post<QueuedDto>(`/v1/orders/${encodeURIComponent(orderId)}/modify`, { price: options.price, size: options.size })
      if (!options.wait) return out.result(queued, () => `modification queued (${queued.outboxId})`)
      out.progress(`modification of ${orderId} queued; waiting for the operator…`)
      const work = await waitForWork(api, out, queued.outboxId, options.timeout)
      // Refused, or settled without a send (the order filled or was cancelled first): not applied.
      if (!work.accepted) throw new CliError(exitCodes.failed, `the modification of order ${orderId} was not applied: ${work.note ?? work.status}`, { code: 'ORDER.NOT_MODIFIED' })
      // A session's end cancelled the order and placed it again: the modify moved to the replacement,
      // which the work names now. That is the order at the new values; the one asked about is cancelled.
      const appliedTo = work.orderId ?? orderId
      const final = await api.get<OrderWithFillsDto>(`/v1/orders/${encodeURIComponent(appliedTo)}`)
      const moved = appliedTo !== orderId ? `\norder ${orderId} was cancelled when its session ended; order ${appliedTo} replaced it and took the modification` : ''
      out.result(final, () => `${orderLine(final)}${moved}`)
    }))
  waitOptions(order.command('cancel <orderId>').description('cancel a working order (it does not wait for a modify queued before it)'))
    .action(clientAction(async ({ api, out }, options: WaitOptions, orderId: string) => {
      const queued = await api.post<QueuedDto>(`/v1/orders/${encodeURIComponent(orderId)}/cancel`, {})
      if (!options.wait) return out.result(queued, () => `cancel queued (${queued.outboxId})`)
      out.progress(`cancel of ${orderId} queued; waiting for the operator…`)
      const work = await waitForWork(api, out, queued.outboxId, options.timeout)
      const final = await api.get<OrderWithFillsDto>(`/v1/orders/${encodeURIComponent(orderId)}`)
      // Cancelled here, before it was ever sent, or by the operator: done. Filled first: not cancelled.
      if (final.state !== 'cancelled') throw new CliError(exitCodes.failed, `order ${orderId} was not cancelled: ${work.note ?? `it is ${final.state}`}`, { code: 'ORDER.NOT_CANCELLED' })
      out.result(final, () => orderLine(final))
    }))
  waitOptions(order.command('cancel-all <walletId>').description("CancelAll: the wallet's open orders in one market, or every market")
    .option('--market <market>', 'only this market (left out: every market)'))
    .action(clientAction(async ({ api, out }, options: WaitOptions & { market?: string }, walletId: string) => {
      // An empty --market (an unset shell variable) is sent as it is, for the API to refuse: not read as every market.
      const queued = await api.post<QueuedDto>(`/v1/wallets/${encodeURIComponent(walletId)}/cancel-all`, options.market !== undefined ? { market: options.market } : {})
      if (!options.wait) return out.result(queued, () => `CancelAll queued (${queued.outboxId})`)
      out.progress(`CancelAll queued; waiting for the operator…`)
      const work = await waitForWork(api, out, queued.outboxId, options.timeout)
      if (!work.accepted) throw new CliError(exitCodes.failed, `the CancelAll was not applied: ${work.note ?? work.status}`, { code: 'CANCEL_ALL.NOT_APPLIED' })
      out.result(work, () => `CancelAll accepted by the operator (${work.outboxId})`)
    }))
  order.command('work <outboxId>').description('what became of a queued modify, cancel or CancelAll: accepted, or why not')
    .action(clientAction(async ({ api, out }, _options: object, outboxId: string) => {
      const work = await api.get<WorkDto>(`/v1/work/${encodeURIComponent(outboxId)}`)
      out.result(work, () => `${workLine(work)}\n${table(['REQUEST', 'STATUS', 'ERROR', 'SIGNED', 'SENT', 'ANSWERED'], work.requests.map((r) => [r.family, r.status, r.errorCode ?? '', r.createdAt, r.sentAt ?? '', r.completedAt ?? '']), '(no request signed)')}`)
    }))
  order.command('list').description('orders, newest first (default: working ones)')
    .option('--wallet <walletId>', 'only this wallet')
    .option('--state <state>', 'working (default), all, or one state (open, filled, cancelled, …)')
    .option('--limit <n>', 'at most this many (default 100, at most 500)')
    .option('--before <orderId>', 'only orders placed before this one (the last of the previous page)')
    .action(clientAction(async ({ api, out }, options: { wallet?: string; state?: string; limit?: string; before?: string }) => {
      const { orders } = await api.get<{ orders: OrderDto[] }>('/v1/orders', { walletId: options.wallet, state: options.state, limit: options.limit, before: options.before })
      out.result(orders, () => orderTable(orders))
    }))
  order.command('get <orderId>').description('one order with its fills and average price')
    .action(clientAction(async ({ api, out }, _options: object, orderId: string) => {
      const found = await api.get<OrderWithFillsDto>(`/v1/orders/${encodeURIComponent(orderId)}`)
      out.result(found, () => [
        orderLine(found),
        table(['FILL', 'PRICE', 'SIZE', 'FEE', 'AT'], found.fills.map((f) => [f.fillId, f.price, f.size, f.fee, f.at]), '(no fills)'),
        table(['WORK', 'KIND', 'STATUS', 'ACCEPTED', 'NOTE'], found.work.map((w) => [w.outboxId, w.kind, w.status, w.accepted ? 'yes' : 'no', w.note ?? '']), '(no work)'),
      ].join('\n'))
    }))
}
