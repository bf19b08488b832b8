#!/bin/sh
# npm run test:legacy: the legacy-path tests (test/legacy/*.test.ts) inside
# throwaway QEMU guests on Debian 5.10 and 6.1 kernels, which have kprobes.
# The harness is ../shared/legacy-vm beside the clone (LEGACY_VM overrides).
# LEGACY_KERNELS picks the kernels (default "5.10 6.1"), LEGACY_TESTS the test
# files (default all of test/legacy).
set -eu
cd "$(dirname "$0")/../.."
VM="${LEGACY_VM:-../shared/legacy-vm}"
if [ ! -x "$VM/run-in-guest.sh" ]; then
  echo "test:legacy: $VM/run-in-guest.sh not found (set LEGACY_VM)" >&2
  exit 1
fi
status=0
for k in ${LEGACY_KERNELS:-5.10 6.1}; do
  start=$(date +%s)
  VM_SHARE="$PWD" VM_TIMEOUT="${VM_TIMEOUT:-900}" "$VM/run-in-guest.sh" "$k" \
    "node node_modules/tap/dist/esm/run.mjs --timeout 600 --reporter tap --disable-coverage ${LEGACY_TESTS:-test/legacy/*.test.ts}" || status=$?
  echo "test:legacy: kernel $k took $(( $(date +%s) - start )) s (status so far $status)" >&2
done
exit "$status"
