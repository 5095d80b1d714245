/**
 * `channels/x402`: our `channel` scheme (DESIGN §6) as plugins of the x402 Foundation's
 * libraries (issue 13 §2, DESIGN §14), so that `@x402/fetch` and `@x402/express` users adopt it
 * unchanged: {@link ChannelSchemeClient} (a `SchemeNetworkClient` paying over this wallet's
 * channels), {@link ChannelSchemeServer} (a `SchemeNetworkServer` offering them) with its local
 * {@link ChannelFacilitator} (a `FacilitatorClient` judging payments against the wallet's
 * database), {@link registerChannelScheme}, and {@link channelEndpoint} (sync, top-up and
 * cooperative close for an x402 merchant). The wallet comes from a `PaymentChannelManager` (`x402Payer()`, `x402Payee()`) or a family scheme's `buyer`/`seller`.
 * An adapter only: the core never imports it, and it reaches a chain family only through core/scheme.
 */
export { ChannelSchemeClient, type ChannelClientOptions } from './client.js'
export { ChannelSchemeServer, type ChannelServerOptions } from './server.js'
export { ChannelFacilitator, DEFAULT_MAX_PENDING } from './facilitator.js'
export { channelEndpoint } from './endpoint.js'
export { registerChannelScheme, type RegisterChannelClientOptions, type RegisterChannelServerOptions } from './register.js'
