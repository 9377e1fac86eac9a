#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages drpc builds with, when any is missing.
set -euo pipefail

packages=(
	g++ meson ninja-build pkg-config python3
	protobuf-compiler libprotobuf-dev libprotoc-dev
	libboost-dev nlohmann-json3-dev doctest-dev
	# sd_notify and socket activation; systemd-socket-activate for their test
	libsystemd-dev systemd
	# the man pages
	scdoc
	# the sandbox of isolated workers (optional at build time: without it the sandbox refuses)
	libseccomp-dev
)

missing=()
for package in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$package")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
