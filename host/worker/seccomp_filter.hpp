// SPDX-License-Identifier: Apache-2.0
/// @file seccomp_filter.hpp
/// The sandbox's seccomp filter (libseccomp): the syscalls denied, and
/// installing the filter.
#pragma once

#include <span>
#include <string>

namespace drpc::host::worker {

/// The syscalls the filter answers EPERM, by name (documented in sandbox.hpp).
[[nodiscard]] std::span<const char *const> denied_syscalls() noexcept;

/// Whether the filter can be installed (libseccomp at build time).
[[nodiscard]] bool seccomp_available() noexcept;

/// Installs the filter on every thread of the process (TSYNC): default allow,
/// denied_syscalls() answer EPERM, clone() with a CLONE_NEW* flag EPERM,
/// clone3 ENOSYS, another architecture's syscalls kill. A name this
/// libseccomp does not know on this architecture is skipped (it cannot be
/// called here either). Needs PR_SET_NO_NEW_PRIVS. Returns "seccomp: N
/// syscalls denied". Throws std::system_error naming the step, or
/// std::runtime_error without libseccomp.
std::string install_seccomp_filter();

} // namespace drpc::host::worker
