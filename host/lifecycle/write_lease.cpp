// SPDX-License-Identifier: Apache-2.0
// The read-lease test for "is this file still being written?".
#include "write_lease.hpp"

#include <drpc/unique_fd.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>

namespace drpc::host {

Writers open_writers(int fd) noexcept
{
	// A writer opening the file while we hold the lease makes the kernel
	// signal us (SIGIO by default, which would end the process); SIGURG is
	// ignored by default, and the lease goes back at once anyway.
	(void)::fcntl(fd, F_SETSIG, SIGURG);
	if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		(void)::fcntl(fd, F_SETLEASE, F_UNLCK);
		return Writers::none;
	}
	return errno == EAGAIN ? Writers::some : Writers::unknown;
}

Writers open_writers_at(int dir_fd, const char *name) noexcept
{
	const drpc::UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
	if (!fd.valid())
		return Writers::unknown;
	return open_writers(fd.get());
}

} // namespace drpc::host
