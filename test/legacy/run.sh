#!/bin/sh
# npm run test:legacy: the legacy-path tests (test/legacy/*.test.ts) inside
# throwaway QEMU guests on Debian 5.10 and 6.1 kernels, which have kprobes.
# The harness is ../shared/legacy-vm beside the clone (LEGACY_VM overrides).
# LEGACY_KERNELS picks the kernels (default "5.10 6.1"), LEGACY_TESTS the test
# files (default all of test/legacy).
#
# A guest kernel that locks up panics (softlockup_panic) instead of spinning
# until VM_TIMEOUT, and its console tail (with loglevel=7: the backtraces) is
# printed. Such a kernel's tests run once more, and the run says so: a failed
# test is never retried, only a guest whose kernel died before it reported.
set -eu
cd "$(dirname "$0")/../.."
VM="${LEGACY_VM:-../shared/legacy-vm}"
if [ ! -x "$VM/run-in-guest.sh" ]; then
  echo "test:legacy: $VM/run-in-guest.sh not found (set LEGACY_VM)" >&2
  exit 1
fi
status=0
for k in ${LEGACY_KERNELS:-5.10 6.1}; do
  for attempt in 1 2; do
    start=$(date +%s)
    rc=0
    VM_SHARE="$PWD" VM_TIMEOUT="${VM_TIMEOUT:-2400}" VM_CONSOLE_LINES="${VM_CONSOLE_LINES:-200}" \
      VM_APPEND="loglevel=7 softlockup_panic=1 softlockup_all_cpu_backtrace=1 ${VM_APPEND:-}" \
      "$VM/run-in-guest.sh" "$k" \
      "node node_modules/tap/dist/esm/run.mjs --timeout 900 --reporter tap --disable-coverage ${LEGACY_TESTS:-test/legacy/*.test.ts}" || rc=$?
    echo "test:legacy: kernel $k took $(( $(date +%s) - start )) s (exit $rc, attempt $attempt)" >&2
    # 125: the guest kernel died (the console tail above says how) before its tests reported.
    [ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
    echo "test:legacy: kernel $k: the guest kernel died before the tests reported; running them once more" >&2
  done
  [ "$rc" = 0 ] || status=$rc
done
exit "$status"
