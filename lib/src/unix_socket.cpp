// SPDX-License-Identifier: Apache-2.0
// Small RAII and address helpers for AF_UNIX SOCK_SEQPACKET sockets.
#include "unix_socket.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace drpc::detail {

sockaddr_un unix_address(const std::filesystem::path &path, const char *what)
{
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	const std::string &text = path.native();
	if (text.empty())
		throw Error(std::string(what) + ": empty socket path");
	if (text.size() >= sizeof(address.sun_path))
		throw Error(std::string(what) + " " + text + ": socket path is " + std::to_string(text.size()) +
		            " bytes, the limit is " + std::to_string(sizeof(address.sun_path) - 1));
	std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
	return address;
}

UniqueFd seqpacket_socket(const std::string &context)
{
	const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw SystemError(context + ": socket", errno);
	return UniqueFd(fd);
}

int connect_to(int fd, const std::filesystem::path &path)
{
	const sockaddr_un address = unix_address(path, "connect");
	int result;
	do {
		result = ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address));
	} while (result < 0 && errno == EINTR);
	return result == 0 ? 0 : errno;
}

PeerCredentials peer_credentials(int fd) noexcept
{
	ucred credentials{};
	socklen_t size = sizeof(credentials);
	if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0)
		return {};
	return {credentials.pid, credentials.uid, credentials.gid};
}

} // namespace drpc::detail
