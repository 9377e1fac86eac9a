// SPDX-License-Identifier: Apache-2.0
/// @file seqpacket.hpp
/// Bare AF_UNIX SOCK_SEQPACKET plumbing for the floor echo, kept apart from
/// libdrpc so the floor measures the kernel and nothing of ours.
#pragma once

#include <filesystem>
#include <utility>

namespace drpc::bench {

/// Owns a file descriptor.
class Fd {
public:
	Fd() noexcept = default;
	explicit Fd(int fd) noexcept : fd_(fd) {}
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Fd &operator=(Fd &&other) noexcept
	{
		if (this != &other)
			reset(std::exchange(other.fd_, -1));
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }

	[[nodiscard]] int get() const noexcept { return fd_; }
	void reset(int fd = -1) noexcept;

private:
	int fd_ = -1;
};

/// A listening socket bound at `path` (which must not exist); throws
/// std::system_error naming the path.
[[nodiscard]] Fd listen_seqpacket(const std::filesystem::path &path);

/// A socket connected to `path`; throws std::system_error naming the path.
[[nodiscard]] Fd connect_seqpacket(const std::filesystem::path &path);

/// Sends one record; throws std::system_error (never raises SIGPIPE).
void send_record(int fd, const void *data, size_t size, const char *what);

/// Receives one record of at most `capacity` bytes; returns its size, 0 when
/// the peer closed. Throws std::system_error.
[[nodiscard]] size_t receive_record(int fd, void *data, size_t capacity, const char *what);

} // namespace drpc::bench
