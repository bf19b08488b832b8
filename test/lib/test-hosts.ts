// The common start of a root integration test: skip (saying why) without root,
// create the two test hosts, load the receiver's nft rules, and remove it all
// when the test file ends — also when setting up fails half way.
import t from 'tap'
import { createNetnsPair, nft, type NetnsPair } from './netns.js'

export function requireRoot(needs: string): void {
  if (process.getuid?.() !== 0) {
    t.plan(0, `needs root (${needs})`)
    process.exit(0)
  }
}

/** Two namespaces on 198.18.<subnet>.0/24 and fd00:<subnet>::/64; `receiverRules` is an nft ruleset. */
export function testHosts(label: string, subnet: number, receiverRules?: string): NetnsPair {
  const pair = createNetnsPair(label, subnet)
  t.teardown(() => pair.cleanup())
  try {
    if (receiverRules) nft(pair, pair.receiver, receiverRules)
  } catch (err) {
    pair.cleanup()
    throw err
  }
  return pair
}
