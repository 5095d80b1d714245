// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title PaymentChannels
/// @notice One contract holding every unidirectional payment channel (payer -> payee),
/// in native currency (`token == address(0)`) or an ERC-20 token. Vouchers follow the
/// Filecoin payment-channel actor: lanes with strictly increasing nonces, merges of other
/// lanes, time locks, a hash lock (SHA-256, so Interledger conditions work unchanged) and
/// a minimum settlement time. Vouchers are EIP-712 typed data signed by the payer.
contract PaymentChannels is EIP712, ReentrancyGuard {
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

    /// @dev Storage layout of a channel: five slots instead of six.
    struct ChannelState {
        address payer;
        uint64 settleDelay;
        address payee;
        uint64 settleAt;
        address token;
        uint64 minSettleAt;
        uint256 deposit;
        uint256 redeemed;
    }

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
    mapping(bytes32 channelId => mapping(uint64 lane => LaneState)) private _lanes;
    /// @dev Ids ever opened. Lane states outlive a collected channel, so an id is never reusable.
    mapping(bytes32 channelId => bool) private _used;
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
        if (_used[channelId]) revert ChannelIdUsed(channelId);
        _used[channelId] = true;

        uint256 received = _pull(token, amount);
        ChannelState storage c = _channels[channelId];
        c.payer = msg.sender;
        c.settleDelay = settleDelay;
        c.payee = payee;
        c.token = token;
        c.deposit = received;
        emit ChannelOpened(channelId, msg.sender, payee, token, received, settleDelay);
    }

    /// @notice Adds `amount` base units to a channel. Payer only, not once settling.
    function deposit(bytes32 channelId, uint256 amount) external payable nonReentrant {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer) revert NotPayer(msg.sender);
        if (c.settleAt != 0) revert AlreadySettling(c.settleAt);
        uint256 received = _pull(c.token, amount);
        uint256 total = c.deposit + received;
        c.deposit = total;
        emit ChannelFunded(channelId, received, total);
    }

    // ------------------------------------------------------------------ vouchers

    /// @notice Redeems a payer-signed voucher (Filecoin `UpdateChannelState`). Payee only.
    function update(Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
        nonReentrant
    {
        _update(voucher, signature, secret);
    }

    /// @notice Batch `update`; every voucher's channel must have msg.sender as payee.
    function updateMany(Voucher[] calldata vouchers, bytes[] calldata signatures, bytes[] calldata secrets)
        external
        nonReentrant
    {
        _checkLengths(vouchers.length, signatures.length, secrets.length);
        for (uint256 i; i < vouchers.length; ++i) {
            _update(vouchers[i], signatures[i], secrets[i]);
        }
    }

    /// @notice Redeems a voucher and collects the channel at once, without the settle delay.
    /// Payee only: closing early can only cost the payee (it gives up later vouchers).
    function close(Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
        nonReentrant
    {
        _update(voucher, signature, secret);
        _collect(voucher.channelId);
    }

    /// @notice Batch `close`; every voucher's channel must have msg.sender as payee.
    function closeMany(Voucher[] calldata vouchers, bytes[] calldata signatures, bytes[] calldata secrets)
        external
        nonReentrant
    {
        _checkLengths(vouchers.length, signatures.length, secrets.length);
        for (uint256 i; i < vouchers.length; ++i) {
            _update(vouchers[i], signatures[i], secrets[i]);
            _collect(vouchers[i].channelId);
        }
    }

    // ------------------------------------------------------------------ settlement

    /// @notice Starts the settle delay. Payer or payee; once only.
    function settle(bytes32 channelId) external {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer && msg.sender != c.payee) revert NotParticipant(msg.sender);
        if (c.settleAt != 0) revert AlreadySettling(c.settleAt);
        // settleDelay <= MAX_SETTLE_DELAY, so this cannot overflow uint64 for ~500 billion years.
        uint64 settleAt = uint64(block.timestamp) + c.settleDelay;
        if (settleAt < c.minSettleAt) settleAt = c.minSettleAt;
        c.settleAt = settleAt;
        emit ChannelSettling(channelId, settleAt);
    }

    /// @notice After `settleAt`: pays the payee what was redeemed, refunds the rest to the payer
    /// and deletes the channel. Payer or payee.
    function collect(bytes32 channelId) external nonReentrant {
        ChannelState storage c = _existing(channelId);
        if (msg.sender != c.payer && msg.sender != c.payee) revert NotParticipant(msg.sender);
        if (c.settleAt == 0) revert NotSettling();
        if (block.timestamp < c.settleAt) revert SettleAtNotReached(c.settleAt);
        _collect(channelId);
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
        return Channel({
            payer: c.payer,
            payee: c.payee,
            token: c.token,
            deposit: c.deposit,
            redeemed: c.redeemed,
            settleDelay: c.settleDelay,
            settleAt: c.settleAt,
            minSettleAt: c.minSettleAt
        });
    }

    /// @notice A lane's highest redeemed nonce and its redeemed amount in base units.
    function getLane(bytes32 channelId, uint64 lane) external view returns (uint64 nonce, uint256 redeemed) {
        LaneState storage l = _lanes[channelId][lane];
        return (l.nonce, l.redeemed);
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
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(VOUCHER_TYPEHASH, voucher.channelId, voucher.lane, voucher.nonce, voucher.amount),
                abi.encode(
                    voucher.secretHash,
                    voucher.timeLockMin,
                    voucher.timeLockMax,
                    voucher.minSettleAt,
                    keccak256(abi.encodePacked(mergeHashes))
                )
            )
        );
        return _hashTypedDataV4(structHash);
    }

    // ------------------------------------------------------------------ internals

    function _existing(bytes32 channelId) private view returns (ChannelState storage c) {
        c = _channels[channelId];
        if (c.payer == address(0)) revert ChannelNotFound(channelId);
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

    function _update(Voucher calldata v, bytes calldata signature, bytes calldata secret) private {
        ChannelState storage c = _existing(v.channelId);
        if (msg.sender != c.payee) revert NotPayee(msg.sender);
        uint64 settleAt = c.settleAt;
        if (settleAt != 0 && block.timestamp >= settleAt) revert SettleAtPassed(settleAt);
        _checkVoucher(v, signature, secret, c.payer);

        mapping(uint64 => LaneState) storage lanes = _lanes[v.channelId];
        LaneState storage lane = lanes[v.lane];
        if (v.nonce <= lane.nonce) revert NonceTooLow(v.lane, lane.nonce, v.nonce);

        // Filecoin: newRedeemed = toSend + amount - (redeemedFromOthers + lane.redeemed).
        uint256 credited = _merge(lanes, v) + lane.redeemed;
        uint256 gross = c.redeemed + v.amount;
        if (gross < credited) revert AmountBelowRedeemed(v.amount, credited);
        uint256 newRedeemed = gross - credited;
        if (newRedeemed > c.deposit) revert AmountExceedsDeposit(newRedeemed, c.deposit);

        lane.nonce = v.nonce;
        lane.redeemed = SafeCast.toUint192(v.amount);
        c.redeemed = newRedeemed;
        emit ChannelUpdated(v.channelId, v.lane, v.nonce, newRedeemed);

        if (v.minSettleAt > c.minSettleAt) {
            c.minSettleAt = v.minSettleAt;
            if (settleAt != 0 && settleAt < v.minSettleAt) {
                c.settleAt = v.minSettleAt;
                emit ChannelSettling(v.channelId, v.minSettleAt);
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

    /// @dev Raises merged lanes' nonces and returns the sum of their redeemed amounts.
    function _merge(mapping(uint64 => LaneState) storage lanes, Voucher calldata v)
        private
        returns (uint256 redeemedFromOthers)
    {
        for (uint256 i; i < v.merges.length; ++i) {
            Merge calldata m = v.merges[i];
            if (m.lane == v.lane) revert MergeSameLane(m.lane);
            LaneState storage other = lanes[m.lane];
            if (m.nonce <= other.nonce) revert MergeNonceTooLow(m.lane, other.nonce, m.nonce);
            redeemedFromOthers += other.redeemed;
            other.nonce = m.nonce;
        }
    }

    /// @dev Checks-effects-interactions: the channel is deleted before any transfer.
    function _collect(bytes32 channelId) private {
        ChannelState storage c = _channels[channelId];
        address payer = c.payer;
        address payee = c.payee;
        address token = c.token;
        uint256 paid = c.redeemed;
        uint256 refund = c.deposit - paid;
        delete _channels[channelId];

        emit ChannelCollected(channelId, paid, refund);
        _send(token, payee, paid);
        _send(token, payer, refund);
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
