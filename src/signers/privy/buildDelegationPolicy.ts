import { type Address, getAddress } from 'viem'
import { eip712Types } from '../../core/eip712/types.js'
import { privyConfigError } from './errors.js'

export type DelegationPolicyConfig = {
  /** The operator's EIP-712 domain name (GET /v1/info), used to name the policy. */
  name: string
  chainId: number
  verifyingContract: Address
  /** Bind the policy to one wallet: its Delegations must name this wallet. */
  wallet?: Address
  /** Refuse Delegations whose `expiry` (unix seconds) is later than this. */
  maxExpiry?: bigint
}

type Operator = 'eq' | 'gt' | 'lte'
export type PolicyCondition =
  | { field_source: 'ethereum_typed_data_domain'; field: 'chainId' | 'verifyingContract'; operator: Operator; value: string }
  | {
      field_source: 'ethereum_typed_data_message'
      /** Path into the message, typed by `typed_data`. */
      field: string
      operator: Operator
      value: string
      typed_data: { primary_type: string; types: Record<string, { name: string; type: string }[]> }
    }

/** Body of Privy's `POST /v1/policies` (policy version 1.0). */
export type PrivyPolicy = {
  version: '1.0'
  name: string
  chain_type: 'ethereum'
  rules: { name: string; method: 'eth_signTypedData_v4'; conditions: PolicyCondition[]; action: 'ALLOW' }[]
}

/** Privy caps policy and rule names at 50 characters. */
const MAX_NAME = 50

/**
 * The Privy policy that lets Deputy's session signer obtain exactly two kinds of
 * signature from a user's wallet: an EIP-712 `Delegation` in the operator's
 * domain, and a `Revocation` there (of a quarantined session, whose own key
 * cannot be trusted to sign it). It has one ALLOW rule for `eth_signTypedData_v4`
 * per primary type; Privy denies whatever no rule allows, so personal_sign,
 * transactions, 7702 authorisations, other primary types, other chains and other
 * verifying contracts are refused even if Deputy's server and keys are compromised.
 *
 * Privy's domain conditions cover only `chainId` and `verifyingContract` (not
 * `name`/`version`). Each rule's message condition carries its struct as
 * `typed_data`, which pins the primary type and its field layout. `wallet` and
 * `maxExpiry` bind the Delegation rule (a Revocation names neither).
 */
export function buildDelegationPolicy(config: DelegationPolicyConfig): PrivyPolicy {
  if (!Number.isSafeInteger(config.chainId) || config.chainId <= 0) {
    throw privyConfigError('policy chainId must be a positive integer', 'use the chainId from the operator GET /v1/info')
  }
  const delegationStruct = {
    primary_type: 'Delegation',
    types: { Delegation: eip712Types.Delegation.map(({ name, type }) => ({ name, type })) },
  }
  const message = (field: string, operator: Operator, value: string): PolicyCondition => ({
    field_source: 'ethereum_typed_data_message',
    field,
    operator,
    value,
    typed_data: delegationStruct,
  })
  const domainConditions: PolicyCondition[] = [
    { field_source: 'ethereum_typed_data_domain', field: 'chainId', operator: 'eq', value: String(config.chainId) },
    { field_source: 'ethereum_typed_data_domain', field: 'verifyingContract', operator: 'eq', value: getAddress(config.verifyingContract) },
  ]
  const messageConditions = [
    ...(config.wallet ? [message('wallet', 'eq', getAddress(config.wallet))] : []),
    ...(config.maxExpiry !== undefined ? [message('expiry', 'lte', config.maxExpiry.toString(10))] : []),
  ]
  return {
    version: '1.0',
    name: `Deputy Delegation: ${config.name}`.slice(0, MAX_NAME),
    chain_type: 'ethereum',
    rules: [
      {
        name: 'Allow Deputy Delegation signatures',
        method: 'eth_signTypedData_v4',
        conditions: [
          ...domainConditions,
          // Always at least one message condition: it is what restricts the primary type to Delegation.
          ...(messageConditions.length > 0 ? messageConditions : [message('expiry', 'gt', '0')]),
        ],
        action: 'ALLOW',
      },
      {
        // A quarantined session's key is in doubt, so the wallet signs its revocation (PROTOCOL.md §5).
        // A Revocation only ends one of the wallet's delegations at this operator.
        name: 'Allow Deputy Revocation signatures',
        method: 'eth_signTypedData_v4',
        conditions: [
          ...domainConditions,
          {
            field_source: 'ethereum_typed_data_message', field: 'deadline', operator: 'gt', value: '0',
            typed_data: { primary_type: 'Revocation', types: { Revocation: eip712Types.Revocation.map(({ name, type }) => ({ name, type })) } },
          },
        ],
        action: 'ALLOW',
      },
    ],
  }
}
