#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The install as a user gets it: `meson install --destdir` into a staging
# directory, the installed plugin template built out of tree with only
# `pkg-config drpc-plugin`, loaded by the staged drpc-host and called by name
# by the staged drpc-ctl (the plugin describes itself), all without
# LD_LIBRARY_PATH.
# Usage: install_test.sh BUILD_DIR PREFIX LIBDIR
set -euo pipefail
build=$1 prefix=$2 libdir=$3
unset LD_LIBRARY_PATH
work=$(mktemp -d /tmp/drpc-install-XXXXXX)
host_pid=
cleanup() {
	[ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL $*" >&2
	[ -f "$work/host.log" ] && cat "$work/host.log" >&2
	exit 1
}
ok() { echo "ok   $*"; }

stage=$work/stage
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "meson install --destdir"; }
root=$stage$prefix
for file in bin/drpc-host bin/drpc-ctl include/drpc/plugin.hpp include/drpc/server.hpp \
	"$libdir/pkgconfig/drpc.pc" "$libdir/pkgconfig/drpc-plugin.pc" share/drpc/drpc-plugin.map \
	share/drpc/proto/hello.proto share/doc/drpc/config/README.md share/doc/drpc/plugin-template/meson.build \
	etc/drpc/drpc-host.json lib/systemd/system/drpc-host.service lib/systemd/system/drpc-host.socket \
	share/bash-completion/completions/drpc-ctl "$libdir/drpc/plugins/hello.so" libexec/drpc/drpc-plugin-protoc; do
	[ -e "$root/$file" ] || fail "not installed: $file"
done
ok "installed: programs, headers, .pc files, protos, config and its docs, template, units, completion"
if command -v scdoc >/dev/null; then
	[ -e "$root/share/man/man8/drpc-host.8" ] && [ -e "$root/share/man/man1/drpc-ctl.1" ] || fail "man pages"
	ok "man pages drpc-host(8), drpc-ctl(1)"
fi

# The staged binaries find the staged libdrpc through their rpath.
found=$(ldd "$root/bin/drpc-ctl" | awk '$1 == "libdrpc.so.0" {print $3}')
[ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$root/$libdir/libdrpc.so.0")" ] ||
	fail "drpc-ctl does not find the staged libdrpc: ${found:-not found}"
"$root/bin/drpc-host" --version | grep -q '^drpc-host ' || fail "drpc-host --version"
"$root/bin/drpc-ctl" --version | grep -q '^drpc-ctl ' || fail "drpc-ctl --version"
ok "the staged programs run without LD_LIBRARY_PATH"

# The template, out of tree: only pkg-config knows where drpc is.
export PKG_CONFIG_PATH=$root/$libdir/pkgconfig
# Relocatable: the prefix is where the .pc file is, here the staging directory.
pc_prefix=$(pkg-config --variable=prefix drpc-plugin)
[ "$(realpath "$pc_prefix")" = "$(realpath "$root")" ] || fail "drpc-plugin.pc's prefix is $pc_prefix, not $root"
flags=$(pkg-config --cflags --libs drpc-plugin)
for flag in -std=c++20 -fvisibility=hidden -fno-gnu-unique -Wl,-z,defs "-I$pc_prefix/include" \
	"-Wl,--version-script=$pc_prefix/share/drpc/drpc-plugin.map"; do
	[[ " $flags " == *" $flag "* ]] || fail "pkg-config drpc-plugin lacks $flag: $flags"
done
[ -x "$(pkg-config --variable=protoc drpc-plugin)" ] || fail "pkg-config drpc-plugin's protoc variable: $(pkg-config --variable=protoc drpc-plugin)"
ok "pkg-config drpc-plugin: C++20, hidden visibility, -fno-gnu-unique, -z defs, the export map, drpc-plugin-protoc"
cp -r "$root/share/doc/drpc/plugin-template" "$work/counter"
[ "$(grep -cv '^$' "$work/counter/meson.build")" -le 5 ] || fail "the template's meson.build is over 5 lines"
(cd "$work/counter" && meson setup build >"$work/setup.log" 2>&1 && meson compile -C build >"$work/compile.log" 2>&1) ||
	{ cat "$work/setup.log" "$work/compile.log" >&2; fail "building the template"; }
[ "$(nm -D --defined-only "$work/counter/build/counter.so" | awk '{print $3}')" = drpc_plugin_entry ] ||
	fail "counter.so exports more than drpc_plugin_entry"
ok "the template builds out of tree and exports only drpc_plugin_entry"

plugins=$work/plugins
mkdir -m 0755 "$plugins"
cp "$work/counter/build/counter.so" "$root/$libdir/drpc/plugins/hello.so" "$plugins/"
"$root/bin/drpc-host" --check-config --plugins "$plugins" >"$work/check.log" || { cat "$work/check.log" >&2; fail "--check-config"; }
grep -q '^load counter.so: module 4100 (counter 1.0.0)$' "$work/check.log" || fail "--check-config output: $(cat "$work/check.log")"
ok "drpc-host --check-config lists the plugin it would load"
cp "$plugins/hello.so" "$plugins/hello2.so"
if "$root/bin/drpc-host" -t --plugins "$plugins" >"$work/check.log"; then fail "--check-config passed a duplicate module ID"; fi
grep -q '^refuse hello2.so: module 0 is taken by hello.so$' "$work/check.log" || fail "--check-config output: $(cat "$work/check.log")"
rm "$plugins/hello2.so"
ok "drpc-host --check-config exits 1 and says why for a plugin it would refuse"

socket=$work/drpc.sock
"$root/bin/drpc-host" --config "$root/etc/drpc/drpc-host.json" --socket "$socket" --plugins "$plugins" \
	2>"$work/host.log" &
host_pid=$!
for _ in $(seq 600); do [ -S "$socket" ] && break; sleep 0.05; done
# By name: the plugin describes its method and embeds its descriptors.
call() { "$root/bin/drpc-ctl" --socket "$socket" call counter.Add "{\"amount\":$1}"; }
"$root/bin/drpc-ctl" --socket "$socket" list | grep -q '^  counter\.Add  *0  counter\.AddRequest -> counter\.AddResponse$' ||
	fail "drpc-ctl list: $("$root/bin/drpc-ctl" --socket "$socket" list 2>&1)"
[ "$(call 2)" = $'status: SUCCESS\n{"total":2}' ] || fail "first call: $(call 0 2>&1)"
[ "$(call 40)" = $'status: SUCCESS\n{"total":42}' ] || fail "second call"
"$root/bin/drpc-ctl" --socket "$socket" describe counter.Add | grep -q '^  int64 amount = 1;$' ||
	fail "drpc-ctl describe: $("$root/bin/drpc-ctl" --socket "$socket" describe counter.Add 2>&1)"
ok "the staged drpc-ctl lists, describes and calls the template plugin by name, totals as JSON numbers"
# The .proto route still works, for plugins that do not describe themselves.
[ "$("$root/bin/drpc-ctl" --socket "$socket" call --module 4100 --method 0 --proto counter.proto -I "$work/counter" \
	--request counter.AddRequest --json '{"amount":0}' --response counter.AddResponse)" = $'status: SUCCESS\n{"total":42}' ] ||
	fail "call with --proto"
ok "and by number with --proto"
# Hot reload: a new build of the file is swapped in (renamed into place, as an install does).
cp "$work/counter/build/counter.so" "$plugins/.counter.new" && mv "$plugins/.counter.new" "$plugins/counter.so"
counter_generation() { "$root/bin/drpc-ctl" --socket "$socket" modules | awk '$2 == "counter" {print $4}'; }
for _ in $(seq 600); do
	[ "$(counter_generation)" = 2 ] && break
	sleep 0.05
done
[ "$(counter_generation)" = 2 ] || fail "no hot reload: $("$root/bin/drpc-ctl" --socket "$socket" modules)"
[ "$(call 1)" = $'status: SUCCESS\n{"total":1}' ] || fail "call after the reload"
ok "replacing counter.so hot reloads it (generation 2, a fresh total)"
kill -TERM "$host_pid"
wait "$host_pid" || fail "the host's exit status"
host_pid=
ok "the host shuts down cleanly"
