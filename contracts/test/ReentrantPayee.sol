// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PaymentChannels} from "../PaymentChannels.sol";

/// @notice A contract that acts as payer or payee and, on receiving native currency, calls the
/// channel contract once more with `reentryCall` (e.g. encoded `collect(id)` or `close(...)`)
/// to try to take more. It records the outcome instead of reverting, so the outer call completes.
/// With `rejecting` set it refuses native currency instead (its `receive` reverts); with `burning`
/// set it burns every unit of gas it is given.
contract ReentrantPayee {
    PaymentChannels public immutable channels;
    bytes public reentryCall;
    bool public armed;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;
    bool public rejecting;
    bool public burning;

    constructor(PaymentChannels channels_) {
        channels = channels_;
    }

    function arm(bytes calldata data) external {
        reentryCall = data;
        armed = true;
    }

    function setRejecting(bool value) external {
        rejecting = value;
    }

    function setBurning(bool value) external {
        burning = value;
    }

    function withdraw(address token, address payable to) external {
        channels.withdraw(token, to);
    }

    function open(address payee, uint64 settleDelay, bytes32 salt) external payable returns (bytes32) {
        return channels.open{value: msg.value}(payee, address(0), msg.value, settleDelay, salt);
    }

    function settle(bytes32 channelId) external {
        channels.settle(channelId);
    }

    function collect(bytes32 channelId) external {
        channels.collect(channelId);
    }

    function update(PaymentChannels.Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
    {
        channels.update(voucher, signature, secret);
    }

    function close(PaymentChannels.Voucher calldata voucher, bytes calldata signature, bytes calldata secret)
        external
    {
        channels.close(voucher, signature, secret);
    }

    receive() external payable {
        require(!rejecting, "ReentrantPayee: rejecting");
        if (burning) {
            while (true) {}
        }
        if (!armed) return;
        armed = false;
        attempts++;
        (bool ok, bytes memory ret) = address(channels).call(reentryCall);
        if (ok) successes++;
        else lastError = ret;
    }
}
