#!/bin/sh
# Run every test program in the build directory given as $1, then the
# module-boundary checks. Prints each runner's CUnit summary and one closing
# line "N passed, N failed"; exits non-zero on any failure or sanitizer
# report.
out=${1:-build/asan}
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export EASD_BIN="$(pwd)/$out/easd"
export EASCTL_BIN="$(pwd)/$out/easctl"
export EASCLIENT_BIN="$(pwd)/$out/easclient"
export EASD_SRCDIR="$(pwd)"

passed=0 failed=0 bad_runners=
logdir=$out/logs
mkdir -p "$logdir"

for t in "$out"/test-* "$out"/e2e-test-*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== $name"
	"$t" > "$logdir/$name.log" 2>&1
	rc=$?
	# CUnit's "tests" summary row: tests Total Ran Passed Failed Inactive
	row=$(awk '$1 == "tests" && NF >= 5 { print $4, $5 }' "$logdir/$name.log" | tail -n 1)
	p=${row% *} f=${row#* }
	[ -n "$row" ] || { p=0; f=0; }
	if [ $rc -ne 0 ] || grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$logdir/$name.log"; then
		[ "$f" -gt 0 ] 2>/dev/null || f=1
		bad_runners="$bad_runners $name"
		sed -n '1,400p' "$logdir/$name.log" | grep -v '^  Test: .*passed$' | tail -n 120
	else
		grep -A8 '^Run Summary' "$logdir/$name.log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

# Module boundaries: SQL only in store/, libmicrohttpd only in server/http.c,
# and nothing under tools/ or conv/ includes a header of server/.
echo "== boundaries"
b=$(grep -l '#include <sqlite3.h>' common/* wbxml/* conv/* server/* tools/* 2>/dev/null)
# Inside store/, SQLite is the driver's and the SQLite-only parts' (schema
# and migrations, FTS5 search of mail and of the address list, backup):
# the store's logic speaks store-int.h, for every backend.
b="$b$(grep -l '#include <sqlite3.h>\|#include "store-sqlite.h"' store/* 2>/dev/null |
	grep -v '^store/\(store-sqlite.h\|driver-sqlite.c\|store.c\|search.c\|gal.c\|backup.c\)$')"
m=$(grep -l '#include <microhttpd.h>' common/* wbxml/* store/* conv/* server/* tools/* 2>/dev/null | grep -v '^server/http.c$')
s=
for h in server/*.h; do
	n=$(basename "$h")
	s="$s$(grep -l "#include \"$n\"" tools/* conv/* store/* wbxml/* common/* 2>/dev/null)"
done
if [ -n "$b$m$s" ]; then
	echo "boundary violation: $b $m $s"
	failed=$((failed + 1))
else
	passed=$((passed + 1))
fi

# The manuals render without a warning from groff or man (man -l, as
# man(1) shows them after make install).
echo "== man pages"
if command -v man >/dev/null; then
	for page in man/*.[18]; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		lines=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
		if [ -n "$w" ] || [ "$lines" -lt 20 ]; then
			echo "$page: $lines lines rendered; $w"
			failed=$((failed + 1))
		else
			echo "$page: $lines lines, no warnings"
			passed=$((passed + 1))
		fi
	done
else
	echo "man is missing (apt-get install man-db): manuals not checked"
fi

[ -n "$bad_runners" ] && echo "failing runners:$bad_runners (logs in $logdir)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
