// SPDX-License-Identifier: Apache-2.0
/// @file temp_dir.hpp
/// A fresh directory (under /tmp unless told) for the bench's sockets and plugin files,
/// removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace drpc::bench {

class TempDir {
public:
	/// mkdtemp(3) of <base>/<prefix>-XXXXXX (mode 0700); throws std::system_error.
	explicit TempDir(const std::string &prefix = "drpc-bench", const std::filesystem::path &base = "/tmp");
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }

private:
	std::filesystem::path path_;
};

} // namespace drpc::bench
