// SPDX-License-Identifier: Apache-2.0
// The bench's scratch directory.
#include "temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace drpc::bench {

TempDir::TempDir(const std::string &prefix, const std::filesystem::path &base)
{
	std::string pattern = (base / (prefix + "-XXXXXX")).string();
	if (::mkdtemp(pattern.data()) == nullptr)
		throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
	path_ = pattern;
}

TempDir::~TempDir()
{
	std::error_code ignored;
	std::filesystem::remove_all(path_, ignored);
}

} // namespace drpc::bench
