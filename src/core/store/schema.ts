/**
 * Schema migrations, applied in order; index + 1 is the `user_version` after each.
 * Amounts are TEXT decimal strings of base units (they exceed SQLite's 64-bit
 * INTEGER); lanes and nonces are INTEGER (kept below 2^63 at the boundary).
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE channels (
    network      TEXT NOT NULL,              -- CAIP-2 id, e.g. eip155:31337
    id           TEXT NOT NULL,              -- bytes32 hex (EVM channel id)
    direction    TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    payer        TEXT NOT NULL,              -- EIP-55 address
    payee        TEXT NOT NULL,              -- EIP-55 address
    asset        TEXT NOT NULL,              -- token address; 0x000…0 = native currency
    contract     TEXT NOT NULL,              -- PaymentChannels address
    deposit      TEXT NOT NULL,              -- confirmed deposit, base units
    redeemed     TEXT NOT NULL DEFAULT '0',  -- redeemed on chain, base units
    charged      TEXT NOT NULL DEFAULT '0',  -- payee: sum of prices served; payer: last charged the payee reported
    settle_delay INTEGER NOT NULL,           -- seconds
    settle_at    INTEGER,                    -- unix seconds, set once settling
    state        TEXT NOT NULL CHECK (state IN ('opening','open','settling','settled','closed','expired','failed')),
    endpoint     TEXT,                       -- merchant endpoint bound to the channel (payer side)
    key_name     TEXT NOT NULL,              -- wallet key that is our side of the channel
    salt         TEXT,                       -- bytes32 salt used to open (payer side)
    open_tx      TEXT,
    close_tx     TEXT,
    created_at   INTEGER NOT NULL,           -- unix seconds
    updated_at   INTEGER NOT NULL,           -- unix seconds
    PRIMARY KEY (network, id)
  ) STRICT;
  CREATE INDEX channels_peer ON channels (network, direction, payee, state);

  CREATE TABLE vouchers (
    network       TEXT NOT NULL,
    channel_id    TEXT NOT NULL,
    lane          INTEGER NOT NULL,
    nonce         INTEGER NOT NULL,
    amount        TEXT NOT NULL,             -- cumulative on the lane, base units
    secret_hash   TEXT NOT NULL,
    time_lock_min INTEGER NOT NULL,
    time_lock_max INTEGER NOT NULL,
    min_settle_at INTEGER NOT NULL,
    merges        TEXT NOT NULL,             -- JSON [{lane, nonce}] as decimal strings
    signature     TEXT NOT NULL,
    price         TEXT,                      -- payee: price of the request it paid for; NULL for pure top-ups
    delivered     INTEGER NOT NULL DEFAULT 0,-- payer: the merchant confirmed it
    submitted_tx  TEXT,                      -- redeemed on chain by this transaction
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (network, channel_id, lane, nonce),
    FOREIGN KEY (network, channel_id) REFERENCES channels (network, id)
  ) STRICT;
  `,  `
  -- Deposit transactions sent but not yet mined (payer side), base units.
  ALTER TABLE channels ADD COLUMN pending_deposit TEXT NOT NULL DEFAULT '0';
  `,
  `
  -- Bitcoin channels: the expiry (unix seconds, CLTV of the refund branch) and the
  -- channel's transactions as JSON {redeemScript, depositVout, depositTx, refundTx, p2sh, closeFee}.
  ALTER TABLE channels ADD COLUMN expiry INTEGER;
  ALTER TABLE channels ADD COLUMN bitcoin TEXT;
  `,
  `
  -- Channels carry their family and keep the family's own fields in one JSON column, data
  -- (issue 10): EVM {contract, settleDelay, salt?}; Bitcoin {depositAddress, expiry, redeemScript,
  -- depositVout, depositTx, refundTx?, p2sh, closeFee, payeeIndex?}. Until now those were the
  -- columns contract (the EVM contract, or the Bitcoin deposit address), settle_delay (0 on
  -- Bitcoin), salt, expiry and bitcoin (JSON). The table is rebuilt (SQLite's 12-step ALTER):
  -- new columns NOT NULL without a default and a CHECK on family. The family of a v3 row is a
  -- historical fact of its network: bip122 networks were Bitcoin-family, all others EVM.
  -- vouchers' foreign key names the table "channels": it holds again once the rebuilt table has
  -- that name (migrate() runs migrations with foreign keys off and checks them before the commit).
  CREATE TABLE channels_v4 (
    network         TEXT NOT NULL,              -- CAIP-2 id, e.g. eip155:31337, bip122:<genesis prefix>
    id              TEXT NOT NULL,              -- 0x hex: bytes32 contract id (EVM), 0x + deposit txid (Bitcoin)
    family          TEXT NOT NULL CHECK (family IN ('evm', 'bitcoin')),
    direction       TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    payer           TEXT NOT NULL,              -- EVM: EIP-55 address; Bitcoin: compressed pubkey hex
    payee           TEXT NOT NULL,              -- EVM: EIP-55 address; Bitcoin: compressed pubkey hex
    asset           TEXT NOT NULL,              -- EVM token address (0x000…0 = native currency); Bitcoin: sat
    deposit         TEXT NOT NULL,              -- confirmed deposit, base units
    pending_deposit TEXT NOT NULL DEFAULT '0',  -- deposit transactions sent, not yet mined (payer), base units
    redeemed        TEXT NOT NULL DEFAULT '0',  -- redeemed on chain, base units
    charged         TEXT NOT NULL DEFAULT '0',  -- payee: sum of prices served; payer: last charged the payee reported
    settle_at       INTEGER,                    -- unix seconds, set once settling
    state           TEXT NOT NULL CHECK (state IN ('opening','open','settling','settled','closed','expired','failed')),
    endpoint        TEXT,                       -- merchant endpoint bound to the channel (payer side)
    key_name        TEXT NOT NULL,              -- wallet key that is our side of the channel
    open_tx         TEXT,
    close_tx        TEXT,
    data            TEXT NOT NULL CHECK (json_type(data) = 'object'), -- the family's fields, JSON
    created_at      INTEGER NOT NULL,           -- unix seconds
    updated_at      INTEGER NOT NULL,           -- unix seconds
    PRIMARY KEY (network, id)
  ) STRICT;
  INSERT INTO channels_v4 (network, id, family, direction, payer, payee, asset, deposit, pending_deposit, redeemed, charged,
    settle_at, state, endpoint, key_name, open_tx, close_tx, data, created_at, updated_at)
  SELECT network, id, CASE WHEN network LIKE 'bip122:%' THEN 'bitcoin' ELSE 'evm' END, direction, payer, payee, asset, deposit,
    pending_deposit, redeemed, charged, settle_at, state, endpoint, key_name, open_tx, close_tx,
    CASE
      WHEN network LIKE 'bip122:%' THEN json_set(coalesce(bitcoin, '{}'), '$.depositAddress', contract, '$.expiry', expiry)
      WHEN salt IS NULL THEN json_object('contract', contract, 'settleDelay', settle_delay)
      ELSE json_object('contract', contract, 'settleDelay', settle_delay, 'salt', salt)
    END,
    created_at, updated_at
  FROM channels;
  DROP TABLE channels;
  ALTER TABLE channels_v4 RENAME TO channels;
  CREATE INDEX channels_peer ON channels (network, direction, payee, state);
  `,
  `
  -- Funds that never block (issue 11 §2, DESIGN §13; Lotus FundManager / PaychReserveFunds / PaychAllocateLane).
  -- Payer side, base units: reserved = set aside by reserve for payments not yet made (vouchers made with the
  -- reservation consume it); queued = top-up asked for while another deposit is pending, sent as ONE deposit once it
  -- is mined; pending_tx / pending_raw = hash and signed raw transaction of the deposit in flight (stored before it is
  -- broadcast, so a crash rebroadcasts the same transaction, never a second deposit); next_lane = the next lane
  -- allocateLane may hand out (lane 0 is pay's default lane; allocated lanes start at 1).
  ALTER TABLE channels ADD COLUMN reserved TEXT NOT NULL DEFAULT '0';
  ALTER TABLE channels ADD COLUMN queued TEXT NOT NULL DEFAULT '0';
  ALTER TABLE channels ADD COLUMN pending_tx TEXT;
  ALTER TABLE channels ADD COLUMN pending_raw TEXT;
  ALTER TABLE channels ADD COLUMN next_lane INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Merge vouchers (issue 11 §3): which lanes a stored voucher merges is read on every payment
  -- (VoucherRepository.mergers, effectiveLanes); this index holds only the few vouchers that
  -- merge lanes, so that read never scans a channel's vouchers.
  CREATE INDEX vouchers_merging ON vouchers (network, channel_id, lane, nonce) WHERE merges != '[]';
  `,
  `
  -- Hash-locked vouchers (issue 11 hash locks, issue 12 watchers): the payee stores a locked voucher
  -- only with its secret (the preimage of secret_hash, 0x hex), so that submit, close and the
  -- redemption service can redeem it on chain; NULL for every voucher without a hash lock.
  ALTER TABLE vouchers ADD COLUMN secret TEXT;
  `,
  `
  -- Payments through a hub (issue 12, DESIGN §11). A hash-locked voucher whose time lock passed
  -- unredeemed can never be redeemed (the contract's TimeLockExpired): it is marked expired and no
  -- longer counts: reads of a lane's latest voucher skip it, so the lane is worth its previous voucher again.
  ALTER TABLE vouchers ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
  -- One row per hash-time-locked payment and per role this wallet plays in it: 'payer' (drew the
  -- secret, signed the conditional voucher to the hub), 'hub' (took the payer's voucher, forwarded
  -- its own to the payee), 'payee' (holds the hub's voucher with the secret). in_* name the
  -- conditional voucher received, out_* the one signed; time_lock is the timeLockMax of the voucher
  -- this wallet signed (payer, hub) or holds (payee); *_nonce its nonce. A lane carries one conditional voucher at a
  -- time, on top of its unconditional total, and is reused once that voucher is simplified or expired, so a
  -- channel has as many lanes as payments in flight at once, not one per payment (gas of the redemption).
  -- amount is what the payee receives (the voucher's increase over the lane's previous total); base units, TEXT.
  CREATE TABLE locked_payments (
    network      TEXT NOT NULL,
    hash         TEXT NOT NULL,               -- sha256 of the secret, 0x hex
    role         TEXT NOT NULL CHECK (role IN ('payer', 'hub', 'payee')),
    payee        TEXT NOT NULL,               -- final payee's address
    amount       TEXT NOT NULL,               -- what the payee receives
    fee          TEXT NOT NULL,               -- what the hub keeps
    in_channel   TEXT, in_lane INTEGER, in_nonce INTEGER, in_time_lock INTEGER,
    out_channel  TEXT, out_lane INTEGER, out_nonce INTEGER, out_time_lock INTEGER,
    secret       TEXT,                        -- the preimage, once known
    encrypted_secret TEXT,                    -- hub: what it forwards to the payee (to retry after a crash)
    hub          TEXT,                        -- payer: the hub's URL
    state        TEXT NOT NULL CHECK (state IN ('pending', 'fulfilled', 'refused', 'expired')),
    in_unlocked  INTEGER NOT NULL DEFAULT 0,  -- the received conditional voucher was replaced by an unconditional one
    out_unlocked INTEGER NOT NULL DEFAULT 0,  -- the signed one was
    spent        INTEGER NOT NULL DEFAULT 0,  -- payee: the payment paid for a request (payload type "routed")
    error        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (network, hash, role)
  ) STRICT;
  CREATE INDEX locked_payments_open ON locked_payments (network, role, state);
  CREATE INDEX locked_payments_lanes ON locked_payments (network, role, out_channel, out_lane);
  -- The hash-locked vouchers that may still expire: few, read by the expiry sweep without scanning every voucher.
  CREATE INDEX vouchers_locked ON vouchers (network, time_lock_max)
    WHERE secret_hash != '0x0000000000000000000000000000000000000000000000000000000000000000' AND expired = 0 AND submitted_tx IS NULL;
  `,
  `
  -- Budgets and a record of spending (issue 13 §3). A budget limits what \`buy\` spends on one origin, or on all of them
  -- (origin '*'), in one asset of one network, over a rolling window: 'day' (the last 24 h), 'week' (the last 7 days)
  -- or 'total' (ever). An origin holds at most one budget per period.
  CREATE TABLE budgets (
    network     TEXT NOT NULL,                -- CAIP-2 id
    asset_id    TEXT NOT NULL,                -- CAIP-19 id of what the limit counts
    origin      TEXT NOT NULL,                -- a URL origin (new URL(x).origin), or '*' for every origin
    period      TEXT NOT NULL CHECK (period IN ('day', 'week', 'total')),
    amount      TEXT NOT NULL,                -- the limit, base units
    created_at  INTEGER NOT NULL,             -- unix seconds
    updated_at  INTEGER NOT NULL,             -- unix seconds
    PRIMARY KEY (asset_id, origin, period)
  ) STRICT;
  -- Every paid request \`buy\` makes, written in the transaction of its voucher (so two processes cannot both pass a
  -- budget), then updated with the merchant's answer. spent is what counts against budgets: price + fee; 0 once the
  -- merchant's receipt says it did not charge a direct purchase, or refused it (its voucher's credit pays the next
  -- request); the fee alone for a purchase through a hub it did not charge (core/spending/history.ts spentAfter).
  -- The voucher named (channel_id, lane, nonce) is the payer's: on the channel to the merchant, or for a purchase
  -- through a hub the conditional voucher on the channel to the hub.
  CREATE TABLE purchases (
    id          INTEGER PRIMARY KEY,
    network     TEXT NOT NULL,                -- CAIP-2 id
    asset       TEXT NOT NULL,                -- the 402 entry's asset (EVM token address or the zero address; 'sat')
    asset_id    TEXT NOT NULL,                -- its CAIP-19 id
    url         TEXT NOT NULL,                -- the URL bought
    origin      TEXT NOT NULL,                -- its origin
    scheme      TEXT NOT NULL,                -- the x402 scheme paid: 'channel'
    hub         TEXT,                         -- through a hub: the hub's URL (NULL when paid directly)
    price       TEXT NOT NULL,                -- the merchant's price, base units
    fee         TEXT NOT NULL,                -- the hub's fee, base units ('0' when paid directly)
    spent       TEXT NOT NULL,                -- what counts against budgets, base units
    channel_id  TEXT NOT NULL,
    lane        INTEGER NOT NULL,
    nonce       INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'not_charged', 'refused')),
    receipt     TEXT CHECK (receipt IS NULL OR json_valid(receipt)), -- the merchant's PAYMENT-RESPONSE, decoded JSON
    error       TEXT,                         -- a refusal's reason
    created_at  INTEGER NOT NULL,             -- unix seconds
    updated_at  INTEGER NOT NULL              -- unix seconds
  ) STRICT;
  CREATE INDEX purchases_spending ON purchases (asset_id, origin, created_at);
  CREATE INDEX purchases_time ON purchases (network, created_at);
  `,
  `
  -- Purchases of the x402 \`exact\` scheme (issue 13 §2): a one-off EIP-3009 authorization, no channel and
  -- no voucher. channel_id, lane and nonce are NULL for them (and only for them); authorization holds what
  -- was signed, JSON {from, to, value, validAfter, validBefore, nonce} (value base units, times unix
  -- seconds, nonce the EIP-3009 bytes32), so that a purchase can be matched to its transfer on chain. The
  -- table is rebuilt (SQLite's 12-step ALTER: columns lose NOT NULL); its rows are copied unchanged.
  CREATE TABLE purchases_v10 (
    id          INTEGER PRIMARY KEY,
    network     TEXT NOT NULL,                -- CAIP-2 id
    asset       TEXT NOT NULL,                -- the 402 entry's asset (EVM token address or the zero address; 'sat')
    asset_id    TEXT NOT NULL,                -- its CAIP-19 id
    url         TEXT NOT NULL,                -- the URL bought
    origin      TEXT NOT NULL,                -- its origin
    scheme      TEXT NOT NULL CHECK (scheme IN ('channel', 'exact')), -- the x402 scheme paid
    hub         TEXT,                         -- through a hub: the hub's URL (NULL when paid directly)
    price       TEXT NOT NULL,                -- the merchant's price, base units
    fee         TEXT NOT NULL,                -- the hub's fee, base units ('0' when paid directly)
    spent       TEXT NOT NULL,                -- what counts against budgets, base units
    channel_id  TEXT,                         -- scheme channel: the payer's voucher (channel_id, lane, nonce)
    lane        INTEGER,
    nonce       INTEGER,
    authorization TEXT CHECK (authorization IS NULL OR json_valid(authorization)), -- scheme exact: what was signed
    status      TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'not_charged', 'refused')),
    receipt     TEXT CHECK (receipt IS NULL OR json_valid(receipt)), -- the merchant's PAYMENT-RESPONSE, decoded JSON
    error       TEXT,                         -- a refusal's reason
    created_at  INTEGER NOT NULL,             -- unix seconds
    updated_at  INTEGER NOT NULL,             -- unix seconds
    CHECK ((scheme = 'channel') = (channel_id IS NOT NULL AND lane IS NOT NULL AND nonce IS NOT NULL)),
    CHECK ((scheme = 'exact') = (authorization IS NOT NULL))
  ) STRICT;
  INSERT INTO purchases_v10 (id, network, asset, asset_id, url, origin, scheme, hub, price, fee, spent, channel_id, lane, nonce,
    status, receipt, error, created_at, updated_at)
    SELECT id, network, asset, asset_id, url, origin, scheme, hub, price, fee, spent, channel_id, lane, nonce,
      status, receipt, error, created_at, updated_at FROM purchases;
  DROP TABLE purchases;
  ALTER TABLE purchases_v10 RENAME TO purchases;
  CREATE INDEX purchases_spending ON purchases (asset_id, origin, created_at);
  CREATE INDEX purchases_time ON purchases (network, created_at);
  `,
]
