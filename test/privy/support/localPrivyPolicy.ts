/**
 * The subset of Privy's policy engine Deputy relies on: rules per method,
 * `ethereum_typed_data_domain` and `ethereum_typed_data_message` conditions,
 * DENY over ALLOW, and deny when no rule allows.
 */

type Field = { name: string; type: string }
export type TypedDataRequest = {
  domain: Record<string, unknown>
  types: Record<string, Field[]>
  message: Record<string, unknown>
  primary_type: string
}

export type Condition = {
  field_source: string
  field: string
  operator: string
  value: string | string[]
  typed_data?: { primary_type: string; types: Record<string, Field[]> }
}
export type Rule = { id: string; name: string; method: string; conditions: Condition[]; action: 'ALLOW' | 'DENY' }
export type Policy = { id: string; version: '1.0'; name: string; chain_type: 'ethereum'; rules: Rule[]; owner_id: string | null; created_at: number }

const METHODS = ['eth_sendTransaction', 'eth_signTransaction', 'eth_signTypedData_v4', 'eth_sign7702Authorization', 'personal_sign', 'eth_signUserOperation', 'exportPrivateKey', '*']
const OPERATORS = ['eq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'starts_with', 'ends_with']
const DOMAIN_FIELDS = ['chainId', 'verifyingContract', 'chain_id', 'verifying_contract']
const SOURCES = ['ethereum_transaction', 'ethereum_calldata', 'ethereum_typed_data_domain', 'ethereum_typed_data_message', 'ethereum_7702_authorization', 'system']

/** Refuses what Privy's schema refuses (the parts this fake understands); returns an error text or undefined. */
export function policyBodyProblem(body: Record<string, unknown>): string | undefined {
  if (body.version !== '1.0') return 'version must be "1.0"'
  if (body.chain_type !== 'ethereum') return 'chain_type must be "ethereum"'
  if (typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 50) return 'name must be 1-50 characters'
  if (!Array.isArray(body.rules)) return 'rules must be an array'
  for (const rule of body.rules as Record<string, unknown>[]) {
    if (typeof rule.name !== 'string' || rule.name.length === 0 || rule.name.length > 50) return 'rule name must be 1-50 characters'
    if (typeof rule.method !== 'string' || !METHODS.includes(rule.method)) return `unknown rule method ${String(rule.method)}`
    if (rule.action !== 'ALLOW' && rule.action !== 'DENY') return 'action must be ALLOW or DENY'
    if (!Array.isArray(rule.conditions)) return 'conditions must be an array'
    for (const condition of rule.conditions as Record<string, unknown>[]) {
      if (typeof condition.field_source !== 'string' || !SOURCES.includes(condition.field_source)) return 'unknown field_source'
      if (typeof condition.operator !== 'string' || !OPERATORS.includes(condition.operator)) return 'unknown operator'
      if (typeof condition.field !== 'string') return 'field must be a string'
      const listValue = condition.operator === 'in'
      if (listValue ? !Array.isArray(condition.value) : typeof condition.value !== 'string') return `value does not fit operator ${condition.operator}`
      if (condition.field_source === 'ethereum_typed_data_domain' && !DOMAIN_FIELDS.includes(condition.field)) return 'unsupported typed data domain field'
      if (condition.field_source === 'ethereum_typed_data_message') {
        const typed = condition.typed_data as Record<string, unknown> | undefined
        if (!typed || typeof typed.primary_type !== 'string' || typeof typed.types !== 'object' || typed.types === null) return 'ethereum_typed_data_message requires typed_data'
      }
    }
  }
  return undefined
}

function toBigInt(value: unknown): bigint | undefined {
  try {
    return typeof value === 'bigint' ? value : typeof value === 'number' || typeof value === 'string' ? BigInt(value) : undefined
  } catch {
    return undefined
  }
}

/** Compares one request value against the condition, typed by its EIP-712 type. */
function compare(actual: unknown, type: string, operator: string, expected: string | string[]): boolean {
  const expectedList = Array.isArray(expected) ? expected : [expected]
  if (/^u?int\d*$/.test(type)) {
    const a = toBigInt(actual)
    const bs = expectedList.map(toBigInt)
    if (a === undefined || bs.some((b) => b === undefined)) return false
    const b = bs[0]!
    switch (operator) {
      case 'eq': return a === b
      case 'in': return bs.includes(a)
      case 'gt': return a > b
      case 'gte': return a >= b
      case 'lt': return a < b
      case 'lte': return a <= b
      default: return false
    }
  }
  if (typeof actual !== 'string') return false
  const caseless = type === 'address' || type.startsWith('bytes')
  const a = caseless ? actual.toLowerCase() : actual
  const bs = expectedList.map((value) => (caseless ? value.toLowerCase() : value))
  const b = bs[0]!
  switch (operator) {
    case 'eq': return a === b
    case 'in': return bs.includes(a)
    case 'contains': return a.includes(b)
    case 'starts_with': return a.startsWith(b)
    case 'ends_with': return a.endsWith(b)
    default: return false
  }
}

function sameFields(a: Field[] | undefined, b: Field[]): boolean {
  return a !== undefined && a.length === b.length && a.every((field, i) => field.name === b[i]?.name && field.type === b[i]?.type)
}

function conditionHolds(condition: Condition, method: string, typed: TypedDataRequest | undefined): boolean {
  if (method !== 'eth_signTypedData_v4' || typed === undefined) return false
  if (condition.field_source === 'ethereum_typed_data_domain') {
    const field = condition.field === 'chain_id' ? 'chainId' : condition.field === 'verifying_contract' ? 'verifyingContract' : condition.field
    return compare(typed.domain[field], field === 'chainId' ? 'uint256' : 'address', condition.operator, condition.value)
  }
  if (condition.field_source === 'ethereum_typed_data_message' && condition.typed_data) {
    // The condition describes one struct; a request of another primary type or layout does not match it.
    if (typed.primary_type !== condition.typed_data.primary_type) return false
    for (const [name, fields] of Object.entries(condition.typed_data.types)) {
      if (!sameFields(typed.types[name], fields)) return false
    }
    let value: unknown = typed.message
    let type = typed.primary_type
    for (const part of condition.field.split('.')) {
      const field = typed.types[type]?.find((candidate) => candidate.name === part)
      if (!field || typeof value !== 'object' || value === null) return false
      value = (value as Record<string, unknown>)[part]
      type = field.type
    }
    return compare(value, type, condition.operator, condition.value)
  }
  return false
}

/** ALLOW only if every policy allows: some ALLOW rule matches and no DENY rule does. No policy: allowed. */
export function policiesAllow(policies: Policy[], method: string, typed: TypedDataRequest | undefined): boolean {
  return policies.every((policy) => {
    const matching = policy.rules.filter(
      (rule) => (rule.method === method || rule.method === '*') && rule.conditions.every((condition) => conditionHolds(condition, method, typed)),
    )
    if (matching.some((rule) => rule.action === 'DENY')) return false
    return matching.some((rule) => rule.action === 'ALLOW')
  })
}
