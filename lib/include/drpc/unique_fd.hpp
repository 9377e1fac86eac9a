// SPDX-License-Identifier: Apache-2.0
/// @file drpc/unique_fd.hpp
/// The one owner of a file descriptor, for the library, the host and the
/// tools alike: closed exactly once, when its owner goes.
#pragma once

#include <unistd.h>
#include <utility>

namespace drpc {

/// Owns a file descriptor (or none: -1). Move-only; never throws.
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
	/// Closes the descriptor held (a close error is not reportable here:
	/// the descriptor is gone either way) and holds `fd` instead.
	void reset(int fd = -1) noexcept
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}
	/// Gives the descriptor up without closing it.
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

private:
	int fd_ = -1;
};

} // namespace drpc
