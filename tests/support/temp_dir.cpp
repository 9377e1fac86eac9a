// SPDX-License-Identifier: Apache-2.0
// A fresh directory under /tmp for one test, removed with everything in it.
#include "temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace test_support {

TempDir::TempDir()
{
	std::string pattern = "/tmp/drpc-test-XXXXXX";
	if (::mkdtemp(pattern.data()) == nullptr)
		throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
	path_ = pattern;
}

TempDir::~TempDir()
{
	std::error_code ignored;
	std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
	                             ignored);
	std::filesystem::remove_all(path_, ignored);
}

} // namespace test_support
