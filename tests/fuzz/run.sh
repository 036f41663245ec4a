#!/bin/sh
# Run one fuzzer: tests/fuzz/run.sh TARGET SECONDS CORPUS_DIR. The corpus
# is seeded from tests/data (seeds already there stay); a crash leaves its
# input as build/fuzz/crash-* and fails the run. Keep a fixed finding as
# tests/data/fuzz/TARGET/NAME: test-conv-regress replays it.
set -eu
t=$1
seconds=$2
corpus=$3
dict=
case $t in
wbxml) seeds="tests/data/wbxml/*.wbxml" ;;
vcard) seeds="tests/data/conv/*.vcf tests/data/easctl/*.vcf"
	dict=-dict=tests/fuzz/vcard.dict ;;
ical) seeds="tests/data/conv/*.ics tests/data/easctl/*.ics"
	dict=-dict=tests/fuzz/ical.dict ;;
mime) seeds="tests/data/mail/*.eml tests/data/easctl/*.mbox"
	dict=-dict=tests/fuzz/mime.dict ;;
itip) seeds="tests/data/itip/*.eml tests/data/itip/*.ics"
	dict=-dict=tests/fuzz/ical.dict ;;
*) echo "run.sh: unknown fuzzer $t" >&2; exit 2 ;;
esac
# what the fuzzers found before (test-conv-regress replays it) seeds too
seeds="$seeds tests/data/fuzz/$t/*"
mkdir -p "$corpus"
for f in $seeds; do
	[ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null || true
done
echo "== fuzz-$t for $seconds s on $corpus"
# shellcheck disable=SC2086 # $dict is one word or none
build/fuzz/fuzz-"$t" -max_total_time="$seconds" -max_len=65536 \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix=build/fuzz/ $dict "$corpus"
