/**
 * Built-in demo resources of `channels serve` (used when no `--upstream` is given):
 * `GET /weather` (JSON), `GET /joke` (text), `GET /` (index). Anything else is 404.
 */
const JOKES = [
  'Why did the payment channel break up? Too many unsettled differences.',
  'I would tell you a UDP joke, but you might not get it.',
  'A voucher walks into a bar. The bartender says: "Sorry, nonce too low."',
  'There are 10 kinds of people: those who settle on chain and those who stay off it.',
]
const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Lima', 'Osaka', 'Tbilisi']

export interface Resource {
  status: number
  headers: Record<string, string>
  body: Buffer
}

let counter = 0

/** Produces a demo resource for a request. */
export function demoResource(method: string, path: string): Resource {
  const n = counter++
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'Method not allowed.\n')
  if (path === '/weather') {
    const city = CITIES[n % CITIES.length]
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ city, temperatureC: 8 + ((n * 7) % 21), conditions: ['sunny', 'cloudy', 'rain', 'wind'][n % 4] }) + '\n'),
    }
  }
  if (path === '/joke') return text(200, JOKES[n % JOKES.length] + '\n')
  if (path === '/') return text(200, 'channels demo paywall: GET /weather, GET /joke\n')
  return text(404, 'Not found.\n')
}

function text(status: number, s: string): Resource {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(s) }
}
