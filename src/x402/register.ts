/**
 * `registerChannelScheme`: our `channel` scheme on an x402 client or resource server in one
 * call (issue 13 §2), as `@x402/evm`'s `registerExactEvmScheme` does for `exact`.
 */
import type { x402Client } from '@x402/core/client'
import type { x402ResourceServer } from '@x402/core/server'
import type { X402Payer } from '../core/scheme/buyer.js'
import { ChannelSchemeClient, type ChannelClientOptions } from './client.js'
import { ChannelSchemeServer, type ChannelServerOptions } from './server.js'
import type { ChannelFacilitator } from './facilitator.js'

/** For an `x402Client`: the paying wallet (`PaymentChannelManager.x402Payer()`) and how it pays. */
export type RegisterChannelClientOptions = ChannelClientOptions & { payer: X402Payer }
/** For an `x402ResourceServer`: the facilitator it was made with (`new x402ResourceServer(facilitator)`). */
export type RegisterChannelServerOptions = ChannelServerOptions & { facilitator: ChannelFacilitator }

/**
 * Registers the `channel` scheme on `target` for the wallet's network: a
 * {@link ChannelSchemeClient} on an `x402Client`, a {@link ChannelSchemeServer} on an
 * `x402ResourceServer` (whose facilitators must include `o.facilitator`: x402 takes them at construction).
 * The client still needs x402's spend controls to allow the asset (x402 refuses assets it
 * does not know by default): `client.setSpendControls({ allowedAssets: [{ network, asset }] })`.
 * @returns `target`, for chaining
 * @example
 * registerChannelScheme(new x402Client(), { payer: await pcm.x402Payer(), maxPrice: 5000n, autoOpen: true })
 * registerChannelScheme(new x402ResourceServer(facilitator), { facilitator })
 */
export function registerChannelScheme(target: x402Client, o: RegisterChannelClientOptions): x402Client
export function registerChannelScheme(target: x402ResourceServer, o: RegisterChannelServerOptions): x402ResourceServer
export function registerChannelScheme(target: x402Client | x402ResourceServer, o: RegisterChannelClientOptions | RegisterChannelServerOptions): x402Client | x402ResourceServer {
  if ('facilitator' in o) {
    const { facilitator, ...options } = o
    return (target as x402ResourceServer).register(facilitator.network, new ChannelSchemeServer(facilitator, options))
  }
  const { payer, ...options } = o
  const scheme = new ChannelSchemeClient(payer, options)
  return (target as x402Client).register(scheme.network, scheme)
}
