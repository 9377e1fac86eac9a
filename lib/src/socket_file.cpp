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

void remove_socket_file(const std::filesystem::path &path, const ListeningSocket &socket) noexcept
{
	struct stat info {};
	if (::lstat(path.c_str(), &info) != 0)
		return;
	// Someone else's socket now stands there (e.g. a newer server): leave it.
	if (info.st_dev != socket.device || info.st_ino != socket.inode)
		return;
	::unlink(path.c_str());
}

} // namespace drpc::detail
