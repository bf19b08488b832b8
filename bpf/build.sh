#!/bin/sh
# Rebuilds the shipped CO-RE objects (bpf/*.bpf.o) from their sources and
# records the hash of the sources each was built from (bpf/objects.sha256);
# test/unit/bpf-objects.test.ts fails when a source changed without a rebuild.
# Needs clang, llvm-strip and libbpf-dev (bpf_helpers.h); run as `npm run build:bpf`.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
STRIP=${LLVM_STRIP:-llvm-strip}
ARCH_INCLUDE=/usr/include/$(uname -m)-linux-gnu
: > objects.sha256.tmp
for src in *.bpf.c; do
  obj=${src%.c}.o
  # Paths in the objects relative to bpf/ (BTF line info names the files), so a
  # build from any checkout gives the same bytes.
  "$CLANG" -g -O2 -ffile-prefix-map="$PWD"=. -target bpf -D__TARGET_ARCH_x86 -I"$ARCH_INCLUDE" -Iinclude -c "$src" -o "$obj"
  # Keep .BTF/.BTF.ext (needed for CO-RE), drop DWARF: smaller and no build paths.
  "$STRIP" -g "$obj"
  echo "$(sh ./source-hash.sh "$src")  $src" >> objects.sha256.tmp
done
mv objects.sha256.tmp objects.sha256
echo "built: $(ls *.bpf.o | tr '\n' ' ')"
