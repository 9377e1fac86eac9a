#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start: installs what is missing, builds, and runs drpc-host with the
# example plugins on the default config. Extra arguments go to drpc-host.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
meson compile -C build drpc-host drpc-ctl hello echo kv >/dev/null

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
drpc-host: serving the example plugins (hello = module 0, echo = 1000, kv = 1001) on $socket
Try, from another terminal in $root:
  build/tools/ctl/drpc-ctl --socket $socket call --module 0 --method 0 --request hello.Hello --json '{"name":"Friend"}' --response hello.HelloResponse
Stop with Ctrl-C.
TXT
exec build/host/drpc-host --config config/drpc-host.json --plugins build/plugins "$@"
