// SPDX-License-Identifier: Apache-2.0
// Socket activation through libsystemd's sd_listen_fds().
#include "activated_socket.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>

#ifdef DRPC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace drpc::host {
namespace {

/// The path the socket is bound to, or "fd N" for an unnamed or abstract one.
std::filesystem::path bound_path(int fd)
{
	sockaddr_un address{};
	socklen_t size = sizeof(address);
	if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) == 0 && address.sun_family == AF_UNIX &&
	    size > offsetof(sockaddr_un, sun_path) && address.sun_path[0] != '\0')
		return std::string(address.sun_path, ::strnlen(address.sun_path, sizeof(address.sun_path)));
	return "fd " + std::to_string(fd);
}

} // namespace

std::optional<ActivatedSocket> take_activated_socket()
{
#ifdef DRPC_HAVE_SYSTEMD
	const int count = ::sd_listen_fds(1);
	if (count < 0)
		throw drpc::SystemError("socket activation: sd_listen_fds", -count);
	if (count == 0)
		return std::nullopt;
	if (count > 1)
		throw drpc::Error("socket activation: systemd passed " + std::to_string(count) +
		                  " sockets; drpc-host serves exactly one (one ListenSequentialPacket= line)");
	const int fd = SD_LISTEN_FDS_START;
	return ActivatedSocket{fd, bound_path(fd)};
#else
	return std::nullopt;
#endif
}

} // namespace drpc::host
