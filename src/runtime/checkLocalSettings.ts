import type { Config } from '../config.js'
import { ConfigError } from '../core/errors/ConfigError.js'
import { type Keyring, createKeyring } from '../keys/Keyring.js'
import { MASTER_KEY_RULE, MasterKeyInvalidError, MasterKeyMissingError } from '../keys/errors.js'
import { readWalletSignerEnv } from '../signers/createWalletSigner.js'
import { createCustodySigners } from '../signers/custodySigners.js'
import { parseDevWalletKeys } from './walletSignerRegistry.js'

/**
 * The settings a process checks by itself, parsed before it touches anything: the master key, the
 * custody signer's settings (`WALLET_SIGNER=privy`, `PRIVY_*`, read from the environment) and the
 * development wallet keys. The worker and the API call this before they open Postgres, migrate it
 * or wait for the operator, so a malformed one stops start-up at once: a ConfigError naming the
 * variable and its rule (exit code 2), as a bad value in src/config.ts does.
 */
export function checkLocalSettings(config: Config, env: Readonly<Record<string, string | undefined>> = process.env) {
  return {
    keyring: masterKeyring(config),
    custody: createCustodySigners(readWalletSignerEnv(env)),
    localKeys: parseDevWalletKeys(config.DEV_WALLET_KEYS),
  }
}

/** `DEPUTY_MASTER_KEY` as a Keyring; missing or malformed, a ConfigError naming it (entry positions and key ids only, never key bytes). */
export function masterKeyring(config: Pick<Config, 'DEPUTY_MASTER_KEY'>): Keyring {
  try {
    return createKeyring(config.DEPUTY_MASTER_KEY)
  } catch (error) {
    if (error instanceof MasterKeyMissingError) throw new ConfigError(`DEPUTY_MASTER_KEY: must be set; ${MASTER_KEY_RULE}, the current key first (.env.example shows a one-line generator)`)
    if (error instanceof MasterKeyInvalidError) throw new ConfigError(`DEPUTY_MASTER_KEY: ${error.problem}; ${MASTER_KEY_RULE}`)
    throw error
  }
}
