/**
 * The words a payer signs to ask its payee for a cooperative close, whatever carries the
 * request (the http402 channel endpoint today): EIP-191 on EVM, ECDSA over its sha256
 * with the channel key on Bitcoin (families/<kind>/cooperative.ts).
 * @param caip2 - the channel's network, so a request cannot be replayed on another chain
 */
export function closeRequestMessage(caip2: string, channelId: string): string {
  return `channels: close ${channelId} on ${caip2}`
}
