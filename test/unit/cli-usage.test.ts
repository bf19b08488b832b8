// Usage errors: one clear line on stderr naming the tool, exit 2, no stack trace.
import t from 'tap'
import { runCli } from '../lib/run-cli.js'

const BAD: Array<[string, string[], RegExp]> = [
  ['tcpretrans', ['-d', '-3'], /--duration: needs a positive number/],
  ['tcpretrans', ['-d', 'abc'], /--duration/],
  ['tcpretrans', ['--port', '70000'], /--port: needs an integer from 1 to 65535/],
  ['tcpretrans', ['--port', '0'], /--port/],
  ['tcpretrans', ['--addr', 'nonsense'], /--addr: "nonsense" is not an IPv4 or IPv6 address/],
  ['tcpretrans', ['-4', '-6'], /-4 and -6 exclude each other/],
  ['tcpretrans', ['-4', '--addr', 'fd00::1'], /not an IPv4 address/],
  ['tcpretrans', ['--bogus'], /Unknown argument: bogus/],
  ['tcpretrans', ['extra'], /Unknown argument: extra/],
  ['tcpretrans', ['-n', '0'], /--max-events/],
  ['tcpretrans', ['-n', '1.5'], /--max-events/],
  ['tcpretrans', ['--rate-limit', '-1'], /--rate-limit/],
  ['tcpretrans', ['--backend', 'dtrace'], /Invalid values/],
  ['tcpretrans', ['--hook-type', 'uprobe'], /Invalid values/],
  ['tcpretrans', ['-c', '-s'], /-c \(count\) and -s \(stack\) exclude each other/],
  ['tcpretrans', ['-i', '2'], /-i\/--interval needs -c/],
  ['tcpretrans', ['-c', '-i', '0'], /--interval: needs a positive number/],
  ['tcpretrans', ['--netns', '/etc/passwd'], /--netns: \/etc\/passwd is not a network namespace/],
  ['tcpretrans', ['--netns', '/nonexistent/ns'], /--netns: cannot open/],
  ['tcpretrans', ['--duration'], /Not enough arguments|duration/],
  ['tcpdrop', ['--port', 'x'], /--port/],
  ['tcpdrop', ['--port', '0x50'], /--port: needs an integer from 1 to 65535, not "0x50"/],
  // A repeat of a one-value option is refused, a repeated 1 too (yargs-parser summed it: 3).
  ['tcpretrans', ['-d', '2', '-d', '1'], /--duration: needs a positive number, not "2,1"/],
  ['tcpdrop', ['--stack-depth', '0'], /--stack-depth/],
  ['tcpdrop', ['--stack-depth', '99'], /--stack-depth/],
  ['tcpdrop', ['--stack-rate', '-1'], /--stack-rate/],
  ['tcpdrop', ['--reason', 'no socket!'], /--reason: needs a drop-reason name/],
  ['tcpdrop', ['--buffer-kb', '1'], /--buffer-kb/],
  ['tcpdrop', ['--rate-limit', 'lots'], /--rate-limit/],
  ['tcpdrop', ['-4', '-6'], /-4 and -6 exclude each other/],
  ['dropwatch', ['--by', 'colour'], /Invalid values/],
  ['dropwatch', ['-i', '0'], /--interval/],
  ['dropwatch', ['--top', '0'], /--top/],
  ['dropwatch', ['--prometheus', 'nonsense'], /--prometheus/],
  ['dropwatch', ['--reason', 'a b'], /--reason/],
  ['dropwatch', ['--rate-limit', '5'], /Unknown argument: rate-limit/],
  ['dropwatch', ['-d', '0'], /--duration/],
]

for (const [tool, args, want] of BAD) {
  t.test(`${tool} ${args.join(' ')}`, async (t) => {
    const r = runCli(tool, args)
    t.equal(r.code, 2, 'exit 2')
    t.match(r.stderr, want)
    t.match(r.stderr, new RegExp(`^${tool}: error: `), 'names the tool')
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line')
    t.equal(r.stdout, '', 'nothing on stdout')
  })
}

t.test('--help lists the common options and ends with examples', async (t) => {
  for (const tool of ['tcpretrans', 'tcpdrop', 'dropwatch']) {
    const r = runCli(tool, ['--help'])
    t.equal(r.code, 0)
    for (const opt of ['--backend', '--hook-type', '--list-backends', '--duration', '--max-events', '--json', '--port', '--addr', '--netns', '--quiet', '--debug', '--version']) {
      t.match(r.stdout, opt, `${tool} --help has ${opt}`)
    }
    t.match(r.stdout, /Examples:/)
  }
})

t.test('--version', async (t) => {
  const r = runCli('tcpretrans', ['-V'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^tcpretrans \(netdrop-tools\) \d+\.\d+\.\d+/)
})
