// SPDX-License-Identifier: Apache-2.0
/// @file unix_socket.hpp
/// Small RAII and address helpers for AF_UNIX SOCK_SEQPACKET sockets.
#pragma once

#include <drpc/module.hpp>

#include <filesystem>
#include <sys/un.h>
#include <utility>

namespace drpc::detail {

/// Owns a file descriptor.
class UniqueFd {
public:
	UniqueFd() noexcept = default;
	explicit UniqueFd(int fd) noexcept : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other)
			reset(std::exchange(other.fd_, -1));
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	[[nodiscard]] int get() const noexcept { return fd_; }
	[[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
	void reset(int fd = -1) noexcept;
	int release() noexcept { return std::exchange(fd_, -1); }

private:
	int fd_ = -1;
};

/// The address of `path`; throws Error when it does not fit sun_path.
[[nodiscard]] sockaddr_un unix_address(const std::filesystem::path &path, const char *what);

/// A new SOCK_SEQPACKET socket (close-on-exec); throws SystemError.
[[nodiscard]] UniqueFd seqpacket_socket(const std::string &context);

/// Connects `fd` to `path`; returns 0 or the errno of connect().
[[nodiscard]] int connect_to(int fd, const std::filesystem::path &path);

/// The credentials of the peer of a connected socket (zeros if unknown).
[[nodiscard]] PeerCredentials peer_credentials(int fd) noexcept;

} // namespace drpc::detail
