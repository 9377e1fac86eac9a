// SPDX-License-Identifier: Apache-2.0
/// @file temp_dir.hpp
/// A fresh directory under /tmp for one test, removed with everything in it:
/// the one scratch-directory helper every test suite uses.
#pragma once

#include <filesystem>
#include <string>

namespace test_support {

class TempDir {
public:
	/// Creates /tmp/drpc-test-XXXXXX (mode 0700); throws std::system_error.
	TempDir();
	/// Removes it, after making it writable again (tests chmod things).
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }
	[[nodiscard]] std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
	std::filesystem::path path_;
};

} // namespace test_support
