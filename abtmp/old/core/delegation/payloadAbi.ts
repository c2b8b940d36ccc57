/** abi.encode(address wallet, bytes sessionPublicKey, string[] aclScope, uint64 expiry, uint64 nonce, bytes walletSignature) */
export const delegatedPayloadAbi = [
  { name: 'wallet', type: 'address' },
  { name: 'sessionPublicKey', type: 'bytes' },
  { name: 'aclScope', type: 'string[]' },
  { name: 'expiry', type: 'uint64' },
  { name: 'nonce', type: 'uint64' },
  { name: 'walletSignature', type: 'bytes' },
] as const
