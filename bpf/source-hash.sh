#!/bin/sh
# Hash of one program's sources: the .bpf.c, the shared ABI header and the
# headers in include/ (sorted, so the result does not depend on file order).
set -eu
cd "$(dirname "$0")"
cat "$1" netdrop.h $(ls include/*.h | sort) | sha256sum | cut -d' ' -f1
