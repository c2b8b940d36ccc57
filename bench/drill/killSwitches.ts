import { appendFile } from 'node:fs/promises'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import type { Db } from '../../src/store/Database.js'
import type { DrillWallet } from './environment.js'
import { sleep } from './workerProcess.js'

/** One halt as the drill made it, on the drill's clock (the in-process sandbox's too). */
export type HaltRecord = {
  walletId: string
  /** Lowercase, as the sandbox keys wallets. */
  walletKey: string
  /** Just before `haltWallet` was called, and once it had returned (the halt committed in between). */
  haltAskedAt: number
  haltedAt: number
  /** The halt's CancelAll (its outbox id). */
  cancelAllOutboxId: string
  /** Just before the accepted `resumeWallet` call, and once it had returned; undefined: never accepted. */
  resumeAskedAt?: number
  resumedAt?: number
  /** Resume calls refused first (the CancelAll, or a placement sent before the halt, not through yet). */
  resumeRefusals: number
}

export type KillSwitchReport = { halts: HaltRecord[] }

/** How long a halted wallet stays halted before the drill asks to resume it, and how long it keeps asking. */
const HOLD_MS = { from: 2_000, to: 5_000 }
const RESUME_RETRY_MS = 250
const RESUME_GIVE_UP_MS = 180_000

/**
 * `count` kill switches at random moments within `overMs`, each on a wallet drawn at random (one not
 * halted at the moment), as the API's halt route does (`haltWallet`: intake refuses new orders,
 * unsent placements are cancelled, a CancelAll is queued); the wallet stays halted a few seconds
 * while the workers go on (and are killed), then it is resumed as the API's resume route does
 * (`resumeWallet`), asked again every 250 ms while it is refused because the halt has not reached
 * the operator yet, as `deputy halt --wait` then resume would. A process of its own, as the API is:
 * only Postgres sees it.
 */
export async function runKillSwitches(options: {
  db: Db; wallets: DrillWallet[]; count: number; overMs: number; random: () => number; logFile: string; stopped: () => boolean
}): Promise<KillSwitchReport> {
  const halts: HaltRecord[] = []
  if (options.count <= 0) return { halts }
  const log = (line: string) => appendFile(options.logFile, `${new Date().toISOString()} ${line}\n`)
  // Drawn up front, so a seed replays them.
  const plan = Array.from({ length: options.count }, () => ({
    atMs: options.random() * options.overMs,
    pick: options.random(),
    holdMs: HOLD_MS.from + options.random() * (HOLD_MS.to - HOLD_MS.from),
  })).sort((a, b) => a.atMs - b.atMs)
  const halted = new Set<string>()
  const started = Date.now()
  await Promise.all(plan.map(async (step) => {
    await sleep(Math.max(0, started + step.atMs - Date.now()))
    if (options.stopped()) return
    const free = options.wallets.filter((w) => !halted.has(w.walletId))
    const wallet = free[Math.floor(step.pick * free.length)]
    if (!wallet) return
    halted.add(wallet.walletId)
    const haltAskedAt = Date.now()
    const { outboxId, cancelledLocally } = await haltWallet(options.db, { walletId: wallet.walletId, reason: 'drill kill switch', actor: 'drill' })
    const record: HaltRecord = { walletId: wallet.walletId, walletKey: wallet.address.toLowerCase(), haltAskedAt, haltedAt: Date.now(), cancelAllOutboxId: outboxId, resumeRefusals: 0 }
    halts.push(record)
    await log(`halted ${wallet.walletId}: CancelAll ${outboxId}, ${cancelledLocally} unsent placements cancelled`)
    await sleep(step.holdMs)
    const giveUpAt = Date.now() + RESUME_GIVE_UP_MS
    while (!options.stopped() && Date.now() < giveUpAt) {
      const askedAt = Date.now()
      try {
        await resumeWallet(options.db, { walletId: wallet.walletId, actor: 'drill' })
        record.resumeAskedAt = askedAt
        record.resumedAt = Date.now()
        await log(`resumed ${wallet.walletId} after ${record.resumeRefusals} refusals`)
        break
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        record.resumeRefusals++
        if (record.resumeRefusals % 20 === 1) await log(`resume of ${wallet.walletId} refused: ${error.message}`)
        await sleep(RESUME_RETRY_MS)
      }
    }
    halted.delete(wallet.walletId)
  }))
  return { halts }
}
