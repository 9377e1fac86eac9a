// SPDX-License-Identifier: Apache-2.0
/// @file socket_file.hpp
/// Creating and removing a server's socket file, with DAOS's rules for what
/// may already be at the path.
#pragma once

#include "unix_socket.hpp"

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace drpc::detail {

/// A listening socket and the identity of the file it is bound to.
struct ListeningSocket {
	UniqueFd fd;
	dev_t device = 0;
	ino_t inode = 0;
	/// Handed over by the caller (socket activation): its file belongs to
	/// whoever made it, and it must keep listening after we let it go.
	bool adopted = false;
};

/// Binds and listens at `path` with file mode `mode`.
///
/// What is already at `path`: nothing, bind; a socket a server answers on,
/// throw "socket in use"; a socket nobody answers on (ECONNREFUSED), remove
/// it when `unlink_stale` (else throw); anything else is never removed.
/// The socket is bound inside a private 0700 directory, given its mode there
/// and then renamed into place, so it is never more open than `mode`.
[[nodiscard]] ListeningSocket listen_at(const std::filesystem::path &path, mode_t mode, bool unlink_stale);

/// Takes `fd`, an already listening socket (systemd's socket activation).
/// Throws Error naming `path` when it is not a listening SOCK_SEQPACKET
/// Unix socket; `fd` is closed then too.
[[nodiscard]] ListeningSocket adopt_listener(int fd, const std::filesystem::path &path);

/// Wakes a thread blocked in accept() on `socket`. A socket of ours is shut
/// down; an adopted one must go on listening for its owner, so a connection
/// to it is made and closed instead.
void interrupt_accept(const ListeningSocket &socket) noexcept;

/// Removes the socket file at `path` if it is still the one `socket`
/// created. Returns what was done, for the log: "removed PATH", "left the
/// adopted socket PATH", "left PATH: another socket replaced ours", ...
[[nodiscard]] std::string remove_socket_file(const std::filesystem::path &path, const ListeningSocket &socket) noexcept;

} // namespace drpc::detail
