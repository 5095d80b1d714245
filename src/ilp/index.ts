/**
 * `channels/ilp`: the ILP plugin (DESIGN §12, issue 14 §1), so that an Interledger node —
 * `ilp-connector` above all — settles an account over our payment channels:
 * {@link ChannelsIlpPlugin} peers over BTP (RFC 23) with e.g. `channels btp listen`, and its
 * `sendMoney` sends a payment-channel claim. The wallet comes from options (`chain`, `wallet`,
 * `store`, as `PaymentChannelManager` takes them) or from a program
 * (`PaymentChannelManager.ilpSettlement()`).
 *
 * `ilp-connector` loads an account's plugin with `require(name)` and `new Plugin(options, api)`:
 * this ES module's `module.exports` export is the class itself, so `require('channels/ilp')`
 * (Node ≥ 20.19, whose `require` loads ES modules) yields the constructor, as a CommonJS plugin
 * package's would. An adapter only: nothing in the wallet imports it.
 */
import { ChannelsIlpPlugin } from './plugin.js'

export { ChannelsIlpPlugin, IlpPluginError, IlpPluginOptionsSchema, RECONNECT_MAX_MS, RECONNECT_MIN_MS, type DataHandler, type IlpPluginOptions, type MoneyHandler, type PluginLog } from './plugin.js'
export type { IlpSettlement } from '../manager/index.js'
export { ChannelsIlpPlugin as 'module.exports' }
export default ChannelsIlpPlugin
