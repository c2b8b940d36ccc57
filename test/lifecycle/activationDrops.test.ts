/**
 * A grant whose activation transaction fails on a Postgres error (the connection dropped, a
 * statement timeout), not on a validation: the wallet signed, the probe passed, and the transaction
 * that makes the session live is lost. The grant must end as any other failed grant does, so the
 * wallet's next grant starts at once instead of being refused as GrantInProgress until the
 * abandoned-grant sweep clears the row minutes later. Deterministic: the wallet row is locked from
 * a connection of the test's own when the probe has passed, so the activation waits on it, then the
 * waiting backend is terminated, as a Postgres restart would.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { activeWallet, allFamilies, eventually, operatorDelegation, readWith, rows } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile({ streams: false, maintenanceIntervalMs: 3_600_000 })

it('a grant whose activation loses its connection ends failed, and the next grant goes live at once; maintenance revokes its delegation', async () => {
  const w = await activeWallet(t.h)
  const r = rows(t.h.db)
  const blocker = new pg.Client({ connectionString: t.h.databaseUrl })
  await blocker.connect()
  const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
  try {
    const grantWith = (probe?: () => Promise<string[]>) => grantSession({
      db: t.h.db, keyring: t.h.keyring, domain: t.h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: t.h.sandbox.now(), ...(probe ? { probe } : {}),
    })
    // The probe passes, having locked the wallet row the activation locks first.
    const failing = grantWith(async () => {
      await blocker.query('begin')
      await blocker.query('select 1 from wallets where id = $1 for update', [w.wallet.id])
      return []
    }).then(() => undefined, (e: unknown) => e)
    // The activation waits on the lock: its backend is ended.
    const waiting = await eventually(async () => {
      const watcher = new pg.Client({ connectionString: t.h.databaseUrl })
      await watcher.connect()
      try {
        const { rows: found } = await watcher.query<{ pid: number }>('select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [blockerPid])
        if (found.length) await watcher.query('select pg_terminate_backend(pid, 5000) from unnest($1::int[]) as pid', [found.map((row) => row.pid)])
        return found.length > 0
      } finally {
        await watcher.end()
      }
    }, 20_000)
    expect(waiting).toBe(true)
    await blocker.query('rollback')
    const error = await failing
    expect(error).toBeInstanceOf(Error)

    const failed = (await r.sessionsOf(w.wallet.id)).find((s) => s.id !== w.session.id)!
    expect([failed.status, failed.statusReason?.startsWith('grant failed: '), failed.failedAt !== null, failed.revokedAt]).toEqual(['revoked', true, true, null])
    // The wallet's session is untouched (the activation rolled back), and the next grant is not refused as GrantInProgress.
    expect((await r.sessionsOf(w.wallet.id)).find((s) => s.id === w.session.id)?.status).toBe('active')
    const { session } = await grantWith()
    expect(session.status).toBe('active')

    // Signed by the wallet, so good at the operator until maintenance revokes it there.
    expect(await readWith(t.h, failed)).toBe(200)
    expect(await t.worker.maintainSessions(w.wallet.id)).toMatchObject({ failures: 0 })
    expect(operatorDelegation(t.h.sandbox, failed.delegationHash)?.revoked).toBe(true)
  } finally {
    await blocker.query('rollback').catch(() => undefined)
    await blocker.end().catch(() => undefined)
  }
}, 60_000)
