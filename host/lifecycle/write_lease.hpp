// SPDX-License-Identifier: Apache-2.0
/// @file write_lease.hpp
/// Whether anyone has a file open for writing, asked the kernel's way: a
/// read lease (F_SETLEASE F_RDLCK) is refused while a writer exists.
#pragma once

namespace drpc::host {

enum class Writers {
	none,    ///< nobody has the file open for writing at this moment
	some,    ///< a writer (a linker, a copy) still has it open
	unknown, ///< the kernel would not say (not the file's owner, a file system without leases)
};

/// Asks about the open file `fd` (opened O_RDONLY). Takes a read lease and
/// gives it straight back. Never throws.
[[nodiscard]] Writers open_writers(int fd) noexcept;

/// The same for `name` in the directory `dir_fd`, opened without following
/// links or blocking; a file that cannot be opened is `unknown`.
[[nodiscard]] Writers open_writers_at(int dir_fd, const char *name) noexcept;

} // namespace drpc::host
