import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { isAddress } from 'viem'
import { buildDelegationPolicy } from './buildDelegationPolicy.js'
import { errorMessage } from '../../core/errors/errorMessage.js'

const usage = `Usage: tsx src/signers/privy/policyCli.ts --name <domain name> --chain-id <id> --verifying-contract <0x…> [--wallet <0x…>] [--max-expiry <unix s>]
Prints the Privy policy JSON (POST /v1/policies body) that allows only Deputy Delegation signatures.`

/** Builds the policy from command-line flags; returns the JSON text or throws with the usage. */
export function policyFromArgs(args: readonly string[]): string {
  const { values } = parseArgs({
    args: [...args],
    options: {
      name: { type: 'string' },
      'chain-id': { type: 'string' },
      'verifying-contract': { type: 'string' },
      wallet: { type: 'string' },
      'max-expiry': { type: 'string' },
    },
    strict: true,
  })
  const name = values.name
  const chainId = Number(values['chain-id'])
  const verifyingContract = values['verifying-contract']
  if (!name || !Number.isSafeInteger(chainId) || !verifyingContract || !isAddress(verifyingContract)) throw new Error(usage)
  if (values.wallet !== undefined && !isAddress(values.wallet)) throw new Error(usage)
  if (values['max-expiry'] !== undefined && !/^\d+$/.test(values['max-expiry'])) throw new Error(usage)
  const policy = buildDelegationPolicy({
    name,
    chainId,
    verifyingContract,
    ...(values.wallet ? { wallet: values.wallet } : {}),
    ...(values['max-expiry'] ? { maxExpiry: BigInt(values['max-expiry']) } : {}),
  })
  return JSON.stringify(policy, null, 2)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(`${policyFromArgs(process.argv.slice(2))}\n`)
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`)
    process.exitCode = 2
  }
}
