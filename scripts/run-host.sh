#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start: installs what is missing, builds, and runs drpc-host with the
# example plugins on the default config. Extra arguments go to drpc-host.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "run-host: $*" >&2; }

say "checking the Debian packages (scripts/install-deps.sh)"
scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
	say "configuring build/ (release, without tests and benchmarks)"
	meson setup build --buildtype=release -Dtests=disabled -Dbench=disabled >/dev/null
fi
say "building drpc-host, drpc-ctl and the example plugins in build/ (a few minutes the first time)"
# ninja's own progress lines ([12/47] Compiling ...), one per step.
meson compile -C build drpc-host drpc-ctl hello echo kv >build/run-host.log 2>&1 &
build_pid=$!
tail -n +1 -f --pid=$build_pid build/run-host.log | grep --line-buffered '^\[' >&2 || true
if ! wait $build_pid; then
	tail -n 20 build/run-host.log >&2
	say "the build failed (full log: build/run-host.log)"
	exit 1
fi

plugins=$root/build/plugins
# The host's default socket: in its run directory, never in /tmp.
if [ "$(id -u)" -eq 0 ]; then
	socket=/run/drpc/drpc-host.sock
elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
	socket=$XDG_RUNTIME_DIR/drpc/drpc-host.sock
else
	echo "run-host.sh: XDG_RUNTIME_DIR is not set; set it (or socket.path and run_directory in the config)" >&2
	exit 1
fi
cat >&2 <<TXT
run-host: serving the plugins directory $plugins
          (hello = module 0, echo = 1000, kv = 1001) on $socket
Try, from another terminal in $root:
  build/tools/ctl/drpc-ctl --socket $socket call hello.Greeting '{"name":"Friend"}'
  build/tools/ctl/drpc-ctl --socket $socket list
Drop a plugin .so into $plugins to load it; stop with Ctrl-C.
TXT
exec build/host/drpc-host --config config/drpc-host.json --plugins "$plugins" "$@"
