import { Config, Store, createKey } from '/work/main/dist/index.js'
import { mkdtempSync } from 'fs'; import { tmpdir } from 'os'; import { join } from 'path'
const home = mkdtempSync(join(tmpdir(), 'h-'))
process.env.CHANNELS_PASSWORD = 'x'
const cfg = new Config(home); await createKey(cfg, 'payer', 'file')
const store = Store.open(home)
const n = Number(process.argv[2])
for (let i = 0; i < n; i++) {
  const id = '0x' + i.toString(16).padStart(64, '0')
  store.channels.insert({ network: 'eip155:31337', id, direction: 'outbound', payer: '0x' + '1'.repeat(40), payee: '0x' + '2'.repeat(40), asset: '0x' + '0'.repeat(40), contract: '0x' + '3'.repeat(40), deposit: 10n**18n, redeemed: 0n, charged: 0n, settleDelay: 3600, state: 'open', keyName: 'payer' })
}
store.close(); console.log(home)
