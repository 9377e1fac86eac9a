#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs every test twice: in a normal
# build and under AddressSanitizer + UndefinedBehaviorSanitizer. The last line
# is the total of what ran, read from the runners' own results.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/install-deps.sh || exit 1

jobs=${DRPC_BUILD_JOBS:-2}
builds=(build-test)
[ "${DRPC_SKIP_SANITIZERS:-0}" = 1 ] || builds+=(build-sanitize)

configure() {
	local dir=$1
	[ -f "$dir/build.ninja" ] && return 0
	case "$dir" in
	build-sanitize)
		# Sanitizer runtimes come from the executable, so shared objects may
		# have undefined symbols (b_lundef=false); any report is a failure.
		meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
			-Dcpp_args=-fno-sanitize-recover=all -Dc_args=-fno-sanitize-recover=all >/dev/null
		;;
	*)
		meson setup "$dir" --buildtype=debugoptimized >/dev/null
		;;
	esac
}

status=0
for dir in "${builds[@]}"; do
	echo "== $dir: build" >&2
	if ! configure "$dir" || ! meson compile -C "$dir" -j "$jobs" >"$dir.compile.log" 2>&1; then
		tail -n 40 "$dir.compile.log" >&2
		echo "== $dir: build failed (full log: $dir.compile.log)" >&2
		status=1
		continue
	fi
	echo "== $dir: test" >&2
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
		meson test -C "$dir" --print-errorlogs --num-processes 1 >&2 || status=1
done

# The honest total, from each build's testlog.json (doctest's own counts).
python3 scripts/summarize-tests.py "${builds[@]}" || status=1
exit $status
