// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title PaymentChannels
/// @notice One contract holding every unidirectional payment channel (payer -> payee),
/// in native currency (`token == address(0)`) or an ERC-20 token. Vouchers follow the
/// Filecoin payment-channel actor: lanes with strictly increasing nonces, merges of other
/// lanes, time locks, a hash lock (SHA-256, so Interledger conditions work unchanged) and
/// a minimum settlement time. Vouchers are EIP-712 typed data signed by the payer.
/// @dev Gas (issue 13 §4): a native channel is two fresh storage slots at `open`; `close`
/// writes no lane state (the channel is collected in the same call and its id is never
/// reopened, so its lanes can never be read again by a redemption); the reentrancy guard is
/// transient (EIP-1153).
contract PaymentChannels is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Another lane folded into a voucher: its nonce is raised to `nonce` and its
    /// redeemed amount counts towards the voucher's amount.
    struct Merge {
        uint64 lane;
        uint64 nonce;
    }

    /// @notice A payer-signed promise: lane `lane` of channel `channelId` has redeemed
    /// `amount` base units in total (wei or token units), superseding vouchers with lower nonces.
    struct Voucher {
        bytes32 channelId;
        uint64 lane;
        uint64 nonce;
        /// Cumulative amount for this lane (and merged lanes), in base units.
        uint256 amount;
        /// sha256 of the secret that must accompany the voucher, or zero.
        bytes32 secretHash;
        /// Unix seconds before which the voucher is invalid, or zero.
        uint64 timeLockMin;
        /// Unix seconds after which the voucher is invalid, or zero.
        uint64 timeLockMax;
        /// Unix seconds before which the channel may not be collected.
        uint64 minSettleAt;
        Merge[] merges;
    }

    /// @notice A channel as returned by `getChannel`. All amounts in base units.
    struct Channel {
        address payer;
        address payee;
        /// ERC-20 token, or address(0) for the native currency.
        address token;
        /// Total funds locked by the payer.
        uint256 deposit;
        /// Amount owed to the payee so far (sum over lanes, Filecoin `ToSend`).
        uint256 redeemed;
        /// Seconds between `settle` and the earliest `collect`.
        uint64 settleDelay;
        /// Unix seconds from which `collect` is allowed; zero while not settling.
        uint64 settleAt;
        /// Unix seconds below which `settleAt` may not fall (raised by vouchers).
        uint64 minSettleAt;
    }

    /// @dev Storage layout of a channel, packed so that `open` of a native channel writes two
    /// fresh slots, a top-up one (already written) slot, and `close` of a native channel touches
    /// three. Amounts are uint96 (up to 7.9e28 base units per channel); times are Unix seconds.
    struct ChannelState {
        // slot 0: written at open, rewritten by deposit, cleared at collect
        address payer;
        uint96 deposit;
        // slot 1: written at open; at collect it becomes the tombstone (ids are never reused):
        // flags = CLOSED, and after a close its voucher's lane (bits 0-63), nonce (64-127) and
        // amount (128-247, capped), which getLane reports
        address payee;
        uint32 settleDelay;
        /// Clamped to type(uint56).max (2.3 billion years: "never", as any higher value).
        uint56 settleAt;
        uint8 flags;
        // slot 2: written by `update` only (a native close of a fresh channel never writes it)
        uint96 redeemed;
        uint64 minSettleAt;
        // slot 3: ERC-20 channels only (flag TOKEN)
        address token;
    }

    /// @dev `flags`: the channel was collected (the slot-1 tombstone), or holds an ERC-20 token.
    uint8 private constant CLOSED = 1;
    uint8 private constant TOKEN = 2;

    /// @dev One slot per lane. `redeemed` is bounded by payer-signed amounts; SafeCast guards it.
    struct LaneState {
        uint64 nonce;
        uint192 redeemed;
    }

    bytes32 private constant MERGE_TYPEHASH = keccak256("Merge(uint64 lane,uint64 nonce)");
    bytes32 private constant VOUCHER_TYPEHASH = keccak256(
        "Voucher(bytes32 channelId,uint64 lane,uint64 nonce,uint256 amount,bytes32 secretHash,uint64 timeLockMin,uint64 timeLockMax,uint64 minSettleAt,Merge[] merges)Merge(uint64 lane,uint64 nonce)"
    );

    /// @dev Upper bound on settleDelay so that `block.timestamp + settleDelay` fits in uint64.
    uint64 private constant MAX_SETTLE_DELAY = type(uint32).max;

    mapping(bytes32 channelId => ChannelState) private _channels;
    /// @dev Lane states outlive a collected channel; the CLOSED tombstone keeps its id from reopening.
    mapping(bytes32 channelId => mapping(uint64 lane => LaneState)) private _lanes;
    /// @dev Payouts a receiver refused (pull payments), by token (address(0): native) and owner.
    mapping(address token => mapping(address owner => uint256)) private _payments;

    /// @dev Gas forwarded with a native payout: enough for a smart-contract wallet's `receive`,
    /// bounded so that a receiver burning gas cannot make `collect` run out and block the other side.
    uint256 private constant NATIVE_PAYOUT_GAS = 100_000;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        address token,
        uint256 deposit,
        uint64 settleDelay
    );
    event ChannelFunded(bytes32 indexed channelId, uint256 amount, uint256 deposit);
    event ChannelUpdated(bytes32 indexed channelId, uint64 lane, uint64 nonce, uint256 redeemed);
    event ChannelSettling(bytes32 indexed channelId, uint64 settleAt);
    event ChannelCollected(bytes32 indexed channelId, uint256 paidToPayee, uint256 refundedToPayer);
    /// @notice A payout `owner` refused (its `receive` reverted, or the token transfer failed) is
    /// held for it instead: `withdraw` takes it. The rest of the collect went through.
    event PaymentDeferred(address indexed owner, address indexed token, uint256 amount);
    event Withdrawn(address indexed owner, address indexed token, address to, uint256 amount);

    error ChannelIdUsed(bytes32 channelId);
    error ChannelNotFound(bytes32 channelId);
    error InvalidPayee(address payee);
    error InvalidSettleDelay(uint64 settleDelay);
    error InvalidValue(uint256 expected, uint256 actual);
    error NotPayer(address caller);
    error NotPayee(address caller);
    error NotParticipant(address caller);
    error AlreadySettling(uint64 settleAt);
    error NotSettling();
    error SettleAtNotReached(uint64 settleAt);
    error SettleAtPassed(uint64 settleAt);
    error InvalidSigner(address signer);
    error TimeLockNotReached(uint64 timeLockMin);
    error TimeLockExpired(uint64 timeLockMax);
    error WrongSecret();
    error NonceTooLow(uint64 lane, uint64 storedNonce, uint64 nonce);
    error MergeSameLane(uint64 lane);
    error MergeNonceTooLow(uint64 lane, uint64 storedNonce, uint64 nonce);
    error AmountBelowRedeemed(uint256 amount, uint256 alreadyRedeemed);
    error AmountExceedsDeposit(uint256 redeemed, uint256 deposit);
    error LengthMismatch();
    error NativeTransferFailed(address to, uint256 amount);
    error NoPayment(address owner, address token);
    error DepositTooLarge(uint256 deposit);

    constructor() EIP712("PaymentChannels", "1") {}

    // ------------------------------------------------------------------ funding

    /// @notice Opens a channel from msg.sender to `payee` and locks `amount` base units.
    /// @dev For the native currency msg.value must equal `amount`; for a token msg.value must be
    /// zero and the contract must be approved. The deposit is what actually arrived.
    function open(address payee, address token, uint256 amount, uint64 settleDelay, bytes32 salt)
        external
        payable
        nonReentrant
        returns (bytes32 channelId)
    {
        if (payee == address(0) || payee == msg.sender) revert InvalidPayee(payee);
        if (settleDelay == 0 || settleDelay > MAX_SETTLE_DELAY) revert InvalidSettleDelay(settleDelay);
        channelId = channelIdOf(msg.sender, payee, token, salt);
        ChannelState storage c = _channels[channelId];
        // Open, or collected (CLOSED): slot 1 is never zero again once an id was used.
        if (c.payee != address(0) || c.flags != 0) revert ChannelIdUsed(channelId);

        uint256 received = _pull(token, amount);
        uint256 flags = token == address(0) ? 0 : TOKEN;
        uint256 locked = _toDeposit(received);
        // Slots 0 and 1 as whole words (the layout of ChannelState), one SSTORE each.
        assembly ("memory-safe") {
            let slot := c.slot
            sstore(slot, or(caller(), shl(160, locked)))
            sstore(add(slot, 1), or(payee, or(shl(160, settleDelay), shl(248, flags))))
        }
        if (flags != 0) c.token = token;
        emit ChannelOpened(channelId, msg.sender, payee, token, received, settleDelay);
    }

    /// @notice Adds `amount` base units to a channel. Payer only, not once settling.
    /// @dev Reverts DepositTooLarge past 2^96 - 1 base units in total.
    function deposit(bytes32 channelId, uint256 amount) external payable nonReentrant {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer) revert NotPayer(msg.sender);
        if (c.settleAt != 0) revert AlreadySettling(c.settleAt);
        uint256 received = _pull(_tokenOf(c), amount);
        uint256 total = c.deposit + received;
        c.deposit = _toDeposit(total);
        emit ChannelFunded(channelId, received, total);
    }

    // ------------------------------------------------------------------ vouchers

    /// @notice Redeems a payer-signed voucher (Filecoin `UpdateChannelState`). Payee only.
    function update(Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
        nonReentrant
    {
        _update(voucher, signature, secret, false);
    }

    /// @notice Batch `update`; every voucher's channel must have msg.sender as payee.
    function updateMany(Voucher[] calldata vouchers, bytes[] calldata signatures, bytes[] calldata secrets)
        external
        nonReentrant
    {
        _checkLengths(vouchers.length, signatures.length, secrets.length);
        for (uint256 i; i < vouchers.length; ++i) {
            _update(vouchers[i], signatures[i], secrets[i], false);
        }
    }

    /// @notice Redeems a voucher and collects the channel at once, without the settle delay.
    /// Payee only: closing early can only cost the payee (it gives up later vouchers).
    function close(Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
        nonReentrant
    {
        (address token, uint256 paid) = _close(voucher, signature, secret);
        _send(token, msg.sender, paid);
    }

    /// @notice Batch `close`; every voucher's channel must have msg.sender as payee. The payee's
    /// shares are paid in one transfer per run of consecutive channels in the same token.
    function closeMany(Voucher[] calldata vouchers, bytes[] calldata signatures, bytes[] calldata secrets)
        external
        nonReentrant
    {
        _checkLengths(vouchers.length, signatures.length, secrets.length);
        address runToken;
        uint256 runPaid;
        for (uint256 i; i < vouchers.length; ++i) {
            (address token, uint256 paid) = _close(vouchers[i], signatures[i], secrets[i]);
            if (token != runToken) {
                _send(runToken, msg.sender, runPaid);
                (runToken, runPaid) = (token, 0);
            }
            runPaid += paid;
        }
        _send(runToken, msg.sender, runPaid);
    }

    // ------------------------------------------------------------------ settlement

    /// @notice Starts the settle delay. Payer or payee; once only.
    function settle(bytes32 channelId) external {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer && msg.sender != c.payee) revert NotParticipant(msg.sender);
        if (c.settleAt != 0) revert AlreadySettling(c.settleAt);
        // settleDelay <= MAX_SETTLE_DELAY, so this cannot overflow.
        uint256 at = block.timestamp + c.settleDelay;
        if (at < c.minSettleAt) at = c.minSettleAt;
        uint56 settleAt = _toSettleAt(at);
        c.settleAt = settleAt;
        emit ChannelSettling(channelId, settleAt);
    }

    /// @notice After `settleAt`: pays the payee what was redeemed, refunds the rest to the payer
    /// and deletes the channel. Payer or payee. A side that refuses its payout gets it held
    /// (`payments`, `withdraw`).
    function collect(bytes32 channelId) external nonReentrant {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer && msg.sender != c.payee) revert NotParticipant(msg.sender);
        uint56 settleAt = c.settleAt;
        if (settleAt == 0) revert NotSettling();
        if (block.timestamp < settleAt) revert SettleAtNotReached(settleAt);
        uint256 paid = c.redeemed;
        address payee = c.payee;
        (address token, address payer, uint256 refund) = _finish(channelId, c, paid, uint256(CLOSED) << 248);
        _send(token, payee, paid);
        _send(token, payer, refund);
    }

    // ------------------------------------------------------------------ pull payments

    /// @notice Sends msg.sender's deferred payouts in `token` (address(0): native) to `to`, all of
    /// them. Reverts if the transfer fails (the caller chose `to`), so nothing is lost.
    /// @dev Pull-payment pattern (OpenZeppelin's PullPayment/Escrow): the balance is zeroed first.
    function withdraw(address token, address payable to) external nonReentrant {
        uint256 amount = _payments[token][msg.sender];
        if (amount == 0) revert NoPayment(msg.sender, token);
        _payments[token][msg.sender] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @notice Payouts `owner` refused and may `withdraw`, in base units of `token` (address(0): native).
    function payments(address token, address owner) external view returns (uint256) {
        return _payments[token][owner];
    }

    // ------------------------------------------------------------------ views

    /// @notice The channel, or a zeroed struct if it does not exist (never opened or collected).
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        ChannelState storage c = _channels[channelId];
        Channel memory none;
        if (c.payer == address(0)) return none; // never opened, or collected (slot 1 is then a tombstone)
        return Channel({
            payer: c.payer,
            payee: c.payee,
            token: _tokenOf(c),
            deposit: c.deposit,
            redeemed: c.redeemed,
            settleDelay: c.settleDelay,
            settleAt: c.settleAt,
            minSettleAt: c.minSettleAt
        });
    }

    /// @notice A lane's highest redeemed nonce and its redeemed amount in base units. After a
    /// `close`, its voucher's lane reads as that voucher left it (the amount capped at 2^120 - 1);
    /// lanes it merged keep the nonce they had before.
    function getLane(bytes32 channelId, uint64 lane) external view returns (uint64 nonce, uint256 redeemed) {
        LaneState storage l = _lanes[channelId][lane];
        (nonce, redeemed) = (l.nonce, l.redeemed);
        ChannelState storage c = _channels[channelId];
        if (c.payer == address(0) && c.flags & CLOSED != 0) {
            uint256 tomb;
            assembly ("memory-safe") {
                tomb := sload(add(c.slot, 1))
            }
            uint64 closedNonce = uint64(tomb >> 64);
            if (closedNonce != 0 && uint64(tomb) == lane) (nonce, redeemed) = (closedNonce, uint120(tomb >> 128));
        }
    }

    /// @notice keccak256(abi.encode(chainid, this, payer, payee, token, salt)).
    function channelIdOf(address payer, address payee, address token, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), payer, payee, token, salt));
    }

    /// @notice The EIP-712 digest the payer signs for `voucher`.
    function voucherDigest(Voucher calldata voucher) public view returns (bytes32) {
        uint256 n = voucher.merges.length;
        bytes32[] memory mergeHashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            mergeHashes[i] = keccak256(abi.encode(MERGE_TYPEHASH, voucher.merges[i].lane, voucher.merges[i].nonce));
        }
        bytes32 mergesHash = keccak256(abi.encodePacked(mergeHashes));
        bytes32 typeHash = VOUCHER_TYPEHASH;
        bytes32 structHash;
        // hashStruct = keccak256(typeHash ‖ the voucher's eight static fields ‖ mergesHash): the
        // fields are the first eight 32-byte words of the voucher in calldata, already encoded as
        // EIP-712 encodes them (the uint64s are checked where _update reads them).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), voucher, 0x100)
            mstore(add(ptr, 0x120), mergesHash)
            structHash := keccak256(ptr, 0x140)
        }
        return _hashTypedDataV4(structHash);
    }

    // ------------------------------------------------------------------ internals

    function _existing(bytes32 channelId) private view returns (ChannelState storage c) {
        c = _channels[channelId];
        if (c.payer == address(0)) revert ChannelNotFound(channelId);
    }

    /// @dev The channel's token, or address(0) for the native currency (slot 3 is read only for tokens).
    function _tokenOf(ChannelState storage c) private view returns (address) {
        return c.flags & TOKEN != 0 ? c.token : address(0);
    }

    function _toDeposit(uint256 amount) private pure returns (uint96) {
        if (amount > type(uint96).max) revert DepositTooLarge(amount);
        return uint96(amount);
    }

    function _toSettleAt(uint256 t) private pure returns (uint56) {
        return t > type(uint56).max ? type(uint56).max : uint56(t);
    }

    function _checkLengths(uint256 a, uint256 b, uint256 c) private pure {
        if (a != b || a != c) revert LengthMismatch();
    }

    /// @dev Takes `amount` from msg.sender and returns what arrived.
    function _pull(address token, uint256 amount) private returns (uint256) {
        if (token == address(0)) {
            if (msg.value != amount) revert InvalidValue(amount, msg.value);
            return amount;
        }
        if (msg.value != 0) revert InvalidValue(0, msg.value);
        if (amount == 0) return 0;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        return IERC20(token).balanceOf(address(this)) - before;
    }

    /// @dev Checks a voucher against the channel and its lanes and returns the channel's new
    /// redeemed total (Filecoin `ToSend`). Unless `closing`, records it: the lane's nonce and
    /// amount, merged lanes' nonces, the channel's total and minSettleAt. A closing redemption
    /// records none of these: the channel is collected in the same call and never reopens.
    function _update(Voucher calldata v, bytes calldata signature, bytes calldata secret, bool closing)
        private
        returns (ChannelState storage c, uint256 newRedeemed)
    {
        c = _existing(v.channelId);
        if (msg.sender != c.payee) revert NotPayee(msg.sender);
        uint56 settleAt = c.settleAt;
        if (settleAt != 0 && block.timestamp >= settleAt) revert SettleAtPassed(settleAt);
        _checkVoucher(v, signature, secret, c.payer);

        mapping(uint64 => LaneState) storage lanes = _lanes[v.channelId];
        LaneState storage lane = lanes[v.lane];
        if (v.nonce <= lane.nonce) revert NonceTooLow(v.lane, lane.nonce, v.nonce);

        // Filecoin: newRedeemed = toSend + amount - (redeemedFromOthers + lane.redeemed).
        uint256 credited = _merge(lanes, v, closing) + lane.redeemed;
        uint256 gross = c.redeemed + v.amount;
        if (gross < credited) revert AmountBelowRedeemed(v.amount, credited);
        newRedeemed = gross - credited;
        if (newRedeemed > c.deposit) revert AmountExceedsDeposit(newRedeemed, c.deposit);
        emit ChannelUpdated(v.channelId, v.lane, v.nonce, newRedeemed);
        if (closing) return (c, newRedeemed);

        lane.nonce = v.nonce;
        lane.redeemed = SafeCast.toUint192(v.amount);
        c.redeemed = uint96(newRedeemed); // <= deposit, a uint96
        if (v.minSettleAt > c.minSettleAt) {
            c.minSettleAt = v.minSettleAt;
            if (settleAt != 0 && settleAt < v.minSettleAt) {
                uint56 later = _toSettleAt(v.minSettleAt);
                c.settleAt = later;
                emit ChannelSettling(v.channelId, later);
            }
        }
    }

    /// @dev Signature by `payer`, time locks and hash lock.
    function _checkVoucher(Voucher calldata v, bytes calldata signature, bytes calldata secret, address payer)
        private
        view
    {
        address signer = ECDSA.recover(voucherDigest(v), signature);
        if (signer != payer) revert InvalidSigner(signer);
        if (v.timeLockMin != 0 && block.timestamp < v.timeLockMin) revert TimeLockNotReached(v.timeLockMin);
        if (v.timeLockMax != 0 && block.timestamp > v.timeLockMax) revert TimeLockExpired(v.timeLockMax);
        if (v.secretHash != bytes32(0) && sha256(secret) != v.secretHash) revert WrongSecret();
    }

    /// @dev Checks merged lanes' nonces, raises them unless `closing`, and returns the sum of
    /// their redeemed amounts.
    function _merge(mapping(uint64 => LaneState) storage lanes, Voucher calldata v, bool closing)
        private
        returns (uint256 redeemedFromOthers)
    {
        for (uint256 i; i < v.merges.length; ++i) {
            Merge calldata m = v.merges[i];
            if (m.lane == v.lane) revert MergeSameLane(m.lane);
            LaneState storage other = lanes[m.lane];
            if (m.nonce <= other.nonce) revert MergeNonceTooLow(m.lane, other.nonce, m.nonce);
            redeemedFromOthers += other.redeemed;
            if (!closing) other.nonce = m.nonce;
        }
    }

    /// @dev `close`'s redemption and collection; pays the payer's refund and returns the payee's
    /// share for the caller (the payee) to be paid, alone or with other channels' shares.
    function _close(Voucher calldata v, bytes calldata signature, bytes calldata secret)
        private
        returns (address token, uint256 paid)
    {
        ChannelState storage c;
        (c, paid) = _update(v, signature, secret, true);
        address payer;
        uint256 refund;
        // The tombstone also keeps the closing voucher's lane, nonce and amount (getLane): the
        // lane state a close does not write, at no extra slot (slot 1 is rewritten anyway).
        uint256 amount = v.amount > type(uint120).max ? type(uint120).max : v.amount;
        uint256 tomb = (uint256(CLOSED) << 248) | (amount << 128) | (uint256(v.nonce) << 64) | uint256(v.lane);
        (token, payer, refund) = _finish(v.channelId, c, paid, tomb);
        _send(token, payer, refund);
    }

    /// @dev Effects of a collect, before any transfer (checks-effects-interactions): clears the
    /// channel to the tombstone `tomb` (slot 1; flags CLOSED) and emits ChannelCollected.
    /// Returns who gets the refund.
    function _finish(bytes32 channelId, ChannelState storage c, uint256 paid, uint256 tomb)
        private
        returns (address token, address payer, uint256 refund)
    {
        payer = c.payer;
        refund = c.deposit - paid;
        uint8 flags = c.flags;
        if (flags & TOKEN != 0) {
            token = c.token;
            c.token = address(0);
        }
        bool slot2Used = c.redeemed != 0 || c.minSettleAt != 0;
        assembly ("memory-safe") {
            let slot := c.slot
            sstore(slot, 0)
            sstore(add(slot, 1), tomb)
        }
        if (slot2Used) {
            c.redeemed = 0;
            c.minSettleAt = 0;
        }
        emit ChannelCollected(channelId, paid, refund);
    }

    /// @dev Pays `to`, or holds the amount for it (`withdraw`) when it refuses: a receiver that
    /// reverts, burns its gas, or is blocked by the token must not block the other side's payout.
    /// The native call forwards bounded gas and copies no return data (no return bomb).
    function _send(address token, address to, uint256 amount) private {
        if (amount == 0) return;
        bool ok;
        if (token == address(0)) {
            uint256 gasLimit = NATIVE_PAYOUT_GAS;
            assembly ("memory-safe") {
                ok := call(gasLimit, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) {
            _payments[token][to] += amount;
            emit PaymentDeferred(to, token, amount);
        }
    }
}
