// SPDX-License-Identifier: Apache-2.0
/// @file activated_socket.hpp
/// The listening socket systemd passes a socket-activated host (LISTEN_FDS).
#pragma once

#include <filesystem>
#include <optional>

namespace drpc::host {

struct ActivatedSocket {
	int fd = -1;                ///< for drpc::ServerOptions::listen_fd, which takes it over
	std::filesystem::path path; ///< where it is bound, for messages
};

/// The socket systemd passed, if it passed one (sd_listen_fds; the
/// environment is cleared so that children do not see it). Whether it is a
/// listening SOCK_SEQPACKET Unix socket is checked by the server that takes
/// it. Throws drpc::Error when systemd passed more than one socket. Without
/// libsystemd, never one.
[[nodiscard]] std::optional<ActivatedSocket> take_activated_socket();

} // namespace drpc::host
