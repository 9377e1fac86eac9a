// SPDX-License-Identifier: Apache-2.0
// Creating and removing a server's socket file, with DAOS's rules for what
// may already be at the path.
#include "socket_file.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace drpc::detail {
namespace {

std::string describe(const std::filesystem::path &path) { return "socket " + path.string(); }

/// Deals with whatever is at `path` before we bind there.
void clear_path(const std::filesystem::path &path, bool unlink_stale)
{
	struct stat info {};
	if (::lstat(path.c_str(), &info) != 0) {
		if (errno == ENOENT)
			return;
		throw SystemError(describe(path) + ": stat", errno);
	}
	if (!S_ISSOCK(info.st_mode))
		throw Error(describe(path) + ": the path exists and is not a socket; refusing to remove it");

	UniqueFd probe = seqpacket_socket(describe(path) + ": probe");
	const int error = connect_to(probe.get(), path);
	if (error == 0)
		throw Error(describe(path) + ": socket in use: another server is listening there");
	// A socket of another type (stream, dgram) answers EPROTOTYPE: someone's
	// live socket, not ours to remove.
	if (error != ECONNREFUSED)
		throw SystemError(describe(path) + ": probing the existing socket", error);
	if (!unlink_stale)
		throw Error(describe(path) + ": a stale socket exists and removing stale sockets is switched off");
	if (::unlink(path.c_str()) != 0 && errno != ENOENT)
		throw SystemError(describe(path) + ": removing the stale socket", errno);
	log::info("server", "removed stale socket " + path.string());
}

} // namespace

ListeningSocket listen_at(const std::filesystem::path &path, mode_t mode, bool unlink_stale)
{
	(void)unix_address(path, "listen"); // refuse a path too long before touching anything
	clear_path(path, unlink_stale);

	// A private directory beside the target, so rename() stays on one
	// filesystem and nobody can reach the socket before it has its mode.
	std::filesystem::path parent = path.parent_path();
	if (parent.empty())
		parent = ".";
	std::string staging_template = (parent / ".drpc-bind-XXXXXX").string();
	if (::mkdtemp(staging_template.data()) == nullptr)
		throw SystemError(describe(path) + ": creating a staging directory in " + parent.string(), errno);
	const std::filesystem::path staging_dir = staging_template;
	const std::filesystem::path staging = staging_dir / "s";
	struct Cleanup {
		const std::filesystem::path &dir, &file;
		~Cleanup()
		{
			::unlink(file.c_str());
			::rmdir(dir.c_str());
		}
	} cleanup{staging_dir, staging};

	ListeningSocket socket{seqpacket_socket(describe(path)), 0, 0};
	const sockaddr_un address = unix_address(staging, "listen");
	if (::bind(socket.fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0)
		throw SystemError(describe(path) + ": bind", errno);
	if (::chmod(staging.c_str(), mode) != 0)
		throw SystemError(describe(path) + ": chmod " + std::to_string(mode), errno);
	if (::listen(socket.fd.get(), SOMAXCONN) != 0)
		throw SystemError(describe(path) + ": listen", errno);
	if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
		const int error = errno;
		if (error == EEXIST)
			throw Error(describe(path) +
			            ": socket in use: something was created at the path while starting");
		throw SystemError(describe(path) + ": moving the socket into place", error);
	}
	struct stat info {};
	if (::lstat(path.c_str(), &info) == 0) {
		socket.device = info.st_dev;
		socket.inode = info.st_ino;
	}
	return socket;
}

ListeningSocket adopt_listener(int fd, const std::filesystem::path &path)
{
	ListeningSocket socket{UniqueFd(fd), 0, 0, true};
	const auto option = [&](int name) {
		int value = -1;
		socklen_t size = sizeof(value);
		if (::getsockopt(fd, SOL_SOCKET, name, &value, &size) != 0)
			throw SystemError(describe(path) + ": the socket passed in (fd " + std::to_string(fd) + ")",
			                  errno);
		return value;
	};
	if (option(SO_DOMAIN) != AF_UNIX || option(SO_TYPE) != SOCK_SEQPACKET)
		throw Error(describe(path) + ": the socket passed in (fd " + std::to_string(fd) +
		            ") is not a SOCK_SEQPACKET Unix socket");
	if (option(SO_ACCEPTCONN) == 0)
		throw Error(describe(path) + ": the socket passed in (fd " + std::to_string(fd) + ") is not listening");
	if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		throw SystemError(describe(path) + ": fcntl FD_CLOEXEC", errno);
	return socket;
}

void interrupt_accept(const ListeningSocket &socket) noexcept
{
	if (!socket.adopted) {
		::shutdown(socket.fd.get(), SHUT_RDWR);
		return;
	}
	sockaddr_un address{};
	socklen_t size = sizeof(address);
	const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (::getsockname(socket.fd.get(), reinterpret_cast<sockaddr *>(&address), &size) == 0)
		(void)::connect(fd, reinterpret_cast<const sockaddr *>(&address), size);
	::close(fd);
}

std::string remove_socket_file(const std::filesystem::path &path, const ListeningSocket &socket) noexcept
{
	try {
		if (socket.adopted)
			return "left the adopted socket " + path.string();
		struct stat info {};
		if (::lstat(path.c_str(), &info) != 0)
			return "left " + path.string() + ": already gone (" + std::strerror(errno) + ")";
		// Someone else's socket now stands there (e.g. a newer server): leave it.
		if (info.st_dev != socket.device || info.st_ino != socket.inode)
			return "left " + path.string() + ": another file replaced our socket there";
		if (::unlink(path.c_str()) != 0)
			return "could not remove " + path.string() + ": " + std::strerror(errno);
		return "removed " + path.string();
	} catch (...) {
		return "socket file " + path.string(); // out of memory for the text: say little
	}
}

} // namespace drpc::detail
