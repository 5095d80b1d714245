/**
 * undici's `request`, in a module of its own: sync.ts imports it when a sync first reaches a
 * merchant, so commands that never do (pay --no-deliver, open) do not load undici (≈ 40-80 ms
 * of CPU). A dynamic import of 'undici' itself would not do: the bundle turns that CommonJS
 * package into a chunk with a default export only.
 */
export { request } from 'undici'
