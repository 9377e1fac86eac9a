// SPDX-License-Identifier: Apache-2.0
/// @file file_permissions.hpp
/// The ownership and mode checks that decide whether the host trusts a file
/// or directory (plugins.strict_permissions, in the spirit of sshd's StrictModes).
#pragma once

#include <optional>
#include <string>
#include <sys/stat.h>

namespace drpc::host {

/// "0644": the permission bits of `mode` in octal.
[[nodiscard]] std::string format_mode(mode_t mode);

/// Why `st` is not trusted, or nothing: it must be owned by the effective
/// user or root and writable by neither group nor others, since anyone else
/// able to change it could run code inside the host.
[[nodiscard]] std::optional<std::string> untrusted_because(const struct stat &st);

/// Why `st` is not private, or nothing: it must be owned by the effective
/// user and open to nobody else (no group or other bits at all).
[[nodiscard]] std::optional<std::string> not_private_because(const struct stat &st);

} // namespace drpc::host
