// SPDX-License-Identifier: Apache-2.0
/// @file process_census.hpp
/// What this process holds, read from /proc/self: open descriptors and the
/// files it has mapped, to tell whether reloads leave anything behind.
#pragma once

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>

namespace drpc::bench {

/// Entries of /proc/self/fd (the descriptor reading it excluded). Throws
/// std::system_error.
[[nodiscard]] size_t count_open_fds();

/// The distinct files under `directory` that /proc/self/maps shows mapped,
/// deleted ones included (without the " (deleted)" mark). Throws
/// std::runtime_error when the maps cannot be read.
[[nodiscard]] std::set<std::string> mapped_files_under(const std::filesystem::path &directory);

/// The entries of `directory`; throws std::filesystem::filesystem_error.
[[nodiscard]] size_t count_entries(const std::filesystem::path &directory);

} // namespace drpc::bench
