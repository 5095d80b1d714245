// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC-20 whose transfers call back into the channel contract once with `reentryCall`
/// (e.g. encoded `collect(id)` or `close(...)`) and record whether that call succeeded.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public reentryCall;
    bool public armed;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;

    constructor() ERC20("Reentrant Token", "REENT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice On the next transfer out of `target_`, call `target_` with `data`.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        reentryCall = data;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from == target) {
            armed = false;
            attempts++;
            (bool ok, bytes memory ret) = target.call(reentryCall);
            if (ok) successes++;
            else lastError = ret;
        }
    }
}
