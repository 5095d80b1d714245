/**
 * ethers v6 decodes custom errors on static calls but not when a transaction's gas
 * estimation reverts. `decodingErrors` wraps a contract so every rejected call carries the
 * decoded error, e.g. "NonceTooLow(0, 2, 2)", at the front of its message.
 */
import { Contract, Interface, type InterfaceAbi } from 'ethers';
import { artifacts } from './deploy.js';

/** An interface holding every custom error of every compiled contract (for nested reverts). */
let allErrors: Interface | undefined;
function errorInterface(): Interface {
  if (allErrors) return allErrors;
  const seen = new Set<string>();
  const fragments: unknown[] = [];
  for (const a of Object.values(artifacts())) {
    for (const item of a.abi as { type: string; name: string; inputs: { type: string }[] }[]) {
      if (item.type !== 'error') continue;
      const sig = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
      if (!seen.has(sig)) {
        fragments.push(item);
        seen.add(sig);
      }
    }
  }
  allErrors = new Interface(fragments as InterfaceAbi);
  return allErrors;
}

/** "Name(arg, …)" for revert data, or undefined when it is not a known custom error. */
export function decodeRevert(data: string | undefined): string | undefined {
  if (!data || data === '0x') return undefined;
  const parsed = errorInterface().parseError(data);
  return parsed ? `${parsed.name}(${parsed.args.map(String).join(', ')})` : undefined;
}

function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [e.data, e.info?.error?.data, e.error?.data]) if (typeof d === 'string') return d;
  return undefined;
}

function annotate(err: unknown): never {
  const decoded = decodeRevert(revertData(err));
  if (decoded && err instanceof Error) {
    err.message = `${decoded}: ${err.message}`;
    (err as { shortMessage?: string }).shortMessage = `reverted with ${decoded}`;
  }
  throw err;
}

/** `contract`, except that rejected method calls have their custom error decoded. */
export function decodingErrors<T extends Contract>(contract: T): T {
  return new Proxy(contract, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !target.interface.getFunction(prop)) return value;
      return new Proxy(value, {
        apply(fn, thisArg, args) {
          const result = Reflect.apply(fn, thisArg, args) as unknown;
          return result instanceof Promise ? result.catch(annotate) : result;
        },
      });
    },
  });
}
