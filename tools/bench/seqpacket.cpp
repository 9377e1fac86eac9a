// SPDX-License-Identifier: Apache-2.0
// Socket calls for the floor echo, with EINTR handled and errors that name
// the path or the step.
#include "seqpacket.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace drpc::bench {
namespace {

[[noreturn]] void throw_errno(int error, const std::string &what)
{
	throw std::system_error(error, std::generic_category(), what);
}

sockaddr_un address_of(const std::filesystem::path &path)
{
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	const std::string &text = path.native();
	if (text.size() >= sizeof(address.sun_path))
		throw_errno(ENAMETOOLONG, "socket path " + text);
	std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
	return address;
}

UniqueFd new_socket(const std::filesystem::path &path)
{
	UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (fd.get() < 0)
		throw_errno(errno, "socket for " + path.string());
	return fd;
}

} // namespace

UniqueFd listen_seqpacket(const std::filesystem::path &path)
{
	const sockaddr_un address = address_of(path);
	UniqueFd fd = new_socket(path);
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0)
		throw_errno(errno, "bind " + path.string());
	if (::listen(fd.get(), SOMAXCONN) != 0)
		throw_errno(errno, "listen on " + path.string());
	return fd;
}

UniqueFd connect_seqpacket(const std::filesystem::path &path)
{
	const sockaddr_un address = address_of(path);
	UniqueFd fd = new_socket(path);
	int result;
	do {
		result = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address));
	} while (result != 0 && errno == EINTR);
	if (result != 0)
		throw_errno(errno, "connect to " + path.string());
	return fd;
}

void send_record(int fd, const void *data, size_t size, const char *what)
{
	ssize_t sent;
	do {
		sent = ::send(fd, data, size, MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0)
		throw_errno(errno, what);
}

size_t receive_record(int fd, void *data, size_t capacity, const char *what)
{
	ssize_t received;
	do {
		received = ::recv(fd, data, capacity, 0);
	} while (received < 0 && errno == EINTR);
	if (received < 0)
		throw_errno(errno, what);
	return static_cast<size_t>(received);
}

void accept_connections(int listener, std::mutex &mutex, const bool &stopping, std::unordered_set<int> &open,
                        const std::function<void(int fd)> &start) noexcept
{
	for (;;) {
		const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		const std::lock_guard lock(mutex);
		if (fd < 0 || stopping) {
			if (fd >= 0)
				::close(fd);
			return;
		}
		try {
			open.insert(fd);
			start(fd);
		} catch (...) {
			open.erase(fd);
			::close(fd);
		}
	}
}

} // namespace drpc::bench
