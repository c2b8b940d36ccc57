import type { Config } from '../config.js'
import { createKeyring } from '../keys/Keyring.js'
import { readWalletSignerEnv } from '../signers/createWalletSigner.js'
import { createCustodySigners } from '../signers/custodySigners.js'
import { parseDevWalletKeys } from './walletSignerRegistry.js'

/**
 * The settings a process checks by itself, parsed before it touches anything: the master key, the
 * custody signer's settings (`WALLET_SIGNER=privy`, `PRIVY_*`, read from the environment) and the
 * development wallet keys. The worker and the API call this before they open Postgres, migrate it
 * or wait for the operator, so a malformed one stops start-up at once, naming it.
 */
export function checkLocalSettings(config: Config, env: Readonly<Record<string, string | undefined>> = process.env) {
  return {
    keyring: createKeyring(config.DEPUTY_MASTER_KEY),
    custody: createCustodySigners(readWalletSignerEnv(env)),
    localKeys: parseDevWalletKeys(config.DEV_WALLET_KEYS),
  }
}
