#!/bin/sh
# make bench: run every benchmark and print one table. Each benchmark
# prints lines "bench-NAME: <name> <value> <unit> (target <t>)".
out=${1:-build}
export EASD_BIN="$(pwd)/$out/easd"
export EASCTL_BIN="$(pwd)/$out/easctl"
results=$(mktemp)
for b in "$out"/bench-*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")" >&2
	"$b" 2>&2 | tee -a "$results" >&2
done
echo
printf '%-14s %-44s %14s %-10s %s\n' benchmark figure value unit target
grep -E '^bench-[a-z]+: ' "$results" | sed 's/^\(bench-[a-z]*\): /\1 /' |
	awk '{ b=$1; n=$2; v=$3; u=$4; $1=$2=$3=$4=""; sub(/^ +/, "");
	       printf "%-14s %-44s %14s %-10s %s\n", b, n, v, u, $0 }'
echo
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
rm -f "$results"
