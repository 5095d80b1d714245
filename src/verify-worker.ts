/**
 * Worker-thread entry of the paywall's header verifier (see core/transports/http402/verify-pool.ts):
 * piscina calls the default export with one {@link CheckTask} per paid request. It lives
 * at the top of `src` so that `commands/serve.js` finds it at `../verify-worker.js` both
 * in the tsc build (dist/) and in the bundle (dist/bundle/). The only family with a signer
 * domain today is EVM (EIP-712 vouchers): its recovery is the one a domain names.
 */
import { checkPaymentHeader, type CheckTask, type HeaderCheck } from './core/transports/http402/verify-pool.js'
import { recoverVoucherSigner } from './families/evm/voucher.js'
import { voucherOfFamily } from './core/channel/voucher.js'

export default function check(task: CheckTask): HeaderCheck {
  return checkPaymentHeader(task.header, task.domain, (v, d) => recoverVoucherSigner(voucherOfFamily(v, 'evm'), d.chainId, d.contract))
}
