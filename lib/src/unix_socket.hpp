// SPDX-License-Identifier: Apache-2.0
/// @file unix_socket.hpp
/// Small RAII and address helpers for AF_UNIX SOCK_SEQPACKET sockets.
#pragma once

#include <drpc/module.hpp>
#include <drpc/unique_fd.hpp>

#include <filesystem>
#include <sys/un.h>

namespace drpc::detail {

/// Kept so that lib/src spells it as before; the type is drpc::UniqueFd.
using UniqueFd = drpc::UniqueFd;

/// The address of `path`; throws Error when it does not fit sun_path.
[[nodiscard]] sockaddr_un unix_address(const std::filesystem::path &path, const char *what);

/// A new SOCK_SEQPACKET socket (close-on-exec); throws SystemError.
[[nodiscard]] UniqueFd seqpacket_socket(const std::string &context);

/// Connects `fd` to `path`; returns 0 or the errno of connect().
[[nodiscard]] int connect_to(int fd, const std::filesystem::path &path);

/// The credentials of the peer of a connected socket (zeros if unknown).
[[nodiscard]] PeerCredentials peer_credentials(int fd) noexcept;

} // namespace drpc::detail
