/**
 * Network parameters of a Bitcoin-family chain: only what addresses and keys
 * need. They come from config, so the same code serves bitcoind mainnet and the
 * litecoind regtest the tests start.
 */
import type { Network } from 'bitcoinjs-lib'

/** Address and key prefixes of one chain (Bitcoin Core's `base58Prefixes` and `bech32_hrp`). */
export interface BitcoinNetworkParams {
  /** Human-readable name, for messages only. */
  name: string
  /** Bech32 human-readable part of segwit addresses (`bc`, `tb`, `bcrt`, `rltc`). */
  bech32: string
  /** Base58 version byte of P2PKH addresses. */
  pubKeyHash: number
  /** Base58 version byte of P2SH addresses. */
  scriptHash: number
  /** Version byte of WIF private keys. */
  wif: number
  /**
   * The dust relay fee of the chain's nodes, sat/vB: an output below
   * `(its size + the size of an input spending it) × this` does not relay (Bitcoin Core
   * `-dustrelayfee`). Default {@link BITCOIN_DUST_RELAY_FEE}; Litecoin's is ten times that.
   */
  dustRelayFee?: number
}

/** Bitcoin Core's `DUST_RELAY_TX_FEE`, 3000 sat/kvB (src/policy/policy.h), in sat/vB. */
export const BITCOIN_DUST_RELAY_FEE = 3
/**
 * Litecoin Core's `DUST_RELAY_TX_FEE`, 30000 sat/kvB (litecoin-project/litecoin
 * src/policy/policy.h), in sat/vB: litecoind 0.21.2 refuses a P2WPKH output below 2940 sat
 * ("dust") where bitcoind takes 294.
 */
export const LITECOIN_DUST_RELAY_FEE = 30

/** Bitcoin mainnet (Bitcoin Core `CMainParams`). */
export const BITCOIN_MAINNET: BitcoinNetworkParams = { name: 'bitcoin', bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 }
/** Bitcoin testnet3 (Bitcoin Core `CTestNetParams`). */
export const BITCOIN_TESTNET: BitcoinNetworkParams = { name: 'bitcoin-testnet', bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
/** Bitcoin regtest (Bitcoin Core `CRegTestParams`). */
export const BITCOIN_REGTEST: BitcoinNetworkParams = { name: 'bitcoin-regtest', bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
/**
 * Litecoin regtest, as in Litecoin Core 0.21 `CRegTestParams` (litecoin-project/litecoin
 * src/chainparams.cpp): `PUBKEY_ADDRESS` 111, `SCRIPT_ADDRESS2` 58 (the prefix
 * litecoind encodes P2SH addresses with; the legacy `SCRIPT_ADDRESS` is 196),
 * `SECRET_KEY` 239, `bech32_hrp` "rltc".
 */
export const LITECOIN_REGTEST: BitcoinNetworkParams = {
  name: 'litecoin-regtest', bech32: 'rltc', pubKeyHash: 0x6f, scriptHash: 0x3a, wif: 0xef, dustRelayFee: LITECOIN_DUST_RELAY_FEE,
}

/** Litecoin's chains by CAIP-2 id (genesis hash prefix): mainnet, testnet4, regtest. */
const LITECOIN_CHAINS = new Set([
  'bip122:12a765e31ffd4059bada1e25190f6e98', 'bip122:4966625a4b2851d9fdee139e56211a0d', 'bip122:530827f38f93b43ed12af0b3ad25a288',
])

/**
 * The dust relay fee of a network's nodes, sat/vB: its configured `dustRelayFee`, else
 * Litecoin's on a Litecoin chain (networks recorded before the field existed), else
 * Bitcoin's.
 * @example dustRelayFeeOf('bip122:530827f38f93b43ed12af0b3ad25a288', {}) // 30
 */
export function dustRelayFeeOf(caip2: string, params: { dustRelayFee?: number }): number {
  return params.dustRelayFee ?? (LITECOIN_CHAINS.has(caip2) ? LITECOIN_DUST_RELAY_FEE : BITCOIN_DUST_RELAY_FEE)
}

/** The presets by name. */
export const BITCOIN_NETWORKS = {
  bitcoin: BITCOIN_MAINNET,
  'bitcoin-testnet': BITCOIN_TESTNET,
  'bitcoin-regtest': BITCOIN_REGTEST,
  'litecoin-regtest': LITECOIN_REGTEST,
} as const satisfies Record<string, BitcoinNetworkParams>

/**
 * The bitcoinjs `Network` for some parameters. BIP32 version bytes and the
 * message prefix are not used by the channel code; they are the Bitcoin ones.
 * @param params - Address and key prefixes.
 * @returns A bitcoinjs network object.
 * @example toBitcoinjsNetwork(LITECOIN_REGTEST).bech32 // 'rltc'
 */
export function toBitcoinjsNetwork(params: BitcoinNetworkParams): Network {
  return {
    messagePrefix: '\x18Bitcoin Signed Message:\n',
    bech32: params.bech32,
    bip32: params.pubKeyHash === 0x00 ? { public: 0x0488b21e, private: 0x0488ade4 } : { public: 0x043587cf, private: 0x04358394 },
    pubKeyHash: params.pubKeyHash,
    scriptHash: params.scriptHash,
    wif: params.wif,
  }
}

/** CAIP-2 id of a Bitcoin-family chain from its genesis block hash (CAIP-4 `bip122`). */
export const bip122Id = (genesisHash: string): string => `bip122:${genesisHash.slice(0, 32)}`
