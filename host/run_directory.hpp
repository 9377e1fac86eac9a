// SPDX-License-Identifier: Apache-2.0
/// @file run_directory.hpp
/// The host's run directory (/run/drpc for root, $XDG_RUNTIME_DIR/drpc for
/// anyone else): where the default socket and the runtime directories live,
/// in a directory only the host's user can write, so that nobody can bind
/// the socket first or plant files, as anyone can in /tmp.
#pragma once

#include <drpc/unique_fd.hpp>

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <sys/types.h>

namespace drpc::host {

/// /run/drpc when `euid` is root; otherwise `xdg_runtime_dir`/drpc. Throws
/// drpc::Error when a non-root user has no (absolute) XDG_RUNTIME_DIR: there
/// is no safe default then, and the error says which key to set.
[[nodiscard]] std::filesystem::path default_run_directory(uid_t euid, const char *xdg_runtime_dir);

/// Refuses a configured socket path whose directory another user could
/// write to (another uid owns it, or it is world-writable like /tmp):
/// there anyone can bind the path first, or replace the socket. Throws
/// drpc::Error naming the directory and saying what to use instead.
void check_socket_directory(const std::filesystem::path &socket);

class RunDirectory {
public:
	/// Creates `path` (mode 0755; its parent must exist) when missing and
	/// checks it: not a symbolic link, a directory, owned by the effective
	/// user, writable by neither group nor others. Throws drpc::Error naming
	/// the path and the failed check.
	explicit RunDirectory(std::filesystem::path path);
	~RunDirectory();
	RunDirectory(const RunDirectory &) = delete;
	RunDirectory &operator=(const RunDirectory &) = delete;

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }

	/// Makes a fresh runtime directory drpc-host-<pid>-XXXXXX (mode 0700)
	/// in it. Throws drpc::SystemError.
	[[nodiscard]] std::filesystem::path make_runtime_dir() const;

	/// Removes the runtime directories left by hosts that are gone (killed,
	/// crashed): only entries named like ours, real directories owned by the
	/// effective user, whose pid is not a running drpc-host and which no
	/// host holds locked; in them only the plugin copies (*.so), and the
	/// directory only if that empties it. Returns how many were removed.
	size_t remove_stale_runtime_dirs() const noexcept;

private:
	std::filesystem::path path_;
	drpc::UniqueFd fd_;
};

} // namespace drpc::host
