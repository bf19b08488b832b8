#!/bin/sh
# Installs what the test suite needs on Debian/Ubuntu, only when missing
# (idempotent, quiet when everything is there). Run as root.
set -e
need=""
command -v nft >/dev/null 2>&1 || need="$need nftables"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v iperf3 >/dev/null 2>&1 || need="$need iperf3"
command -v groff >/dev/null 2>&1 || need="$need groff"
command -v man >/dev/null 2>&1 || need="$need man-db"
command -v taskset >/dev/null 2>&1 || need="$need util-linux"
command -v bpftool >/dev/null 2>&1 || need="$need bpftool"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
[ -e /usr/lib/x86_64-linux-gnu/libbpf.so.1 ] || [ -e /lib/x86_64-linux-gnu/libbpf.so.1 ] || need="$need libbpf1"
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test/setup.sh: missing packages:$need (run as root to install them)" >&2
    exit 1
  fi
  echo "test/setup.sh: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
