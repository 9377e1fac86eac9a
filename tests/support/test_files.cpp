// SPDX-License-Identifier: Apache-2.0
// Reading test files and DAOS's captured records.
#include "test_files.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace test_support {
namespace {

std::filesystem::path vectors_dir()
{
	const char *dir = std::getenv("DRPC_WIRE_VECTORS");
	if (dir == nullptr)
		throw std::runtime_error("DRPC_WIRE_VECTORS is not set (run the tests with meson test)");
	return dir;
}

} // namespace

std::string read_file(const std::filesystem::path &path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw std::runtime_error("cannot read " + path.string());
	std::ostringstream bytes;
	bytes << in.rdbuf();
	return bytes.str();
}

std::vector<std::string> vector_records(const std::string &name)
{
	std::vector<std::string> records;
	for (int i = 0;; ++i) {
		const auto path = vectors_dir() / (name + ".chunk" + std::to_string(i) + ".bin");
		if (!std::filesystem::exists(path))
			break;
		records.push_back(read_file(path));
	}
	if (records.empty())
		throw std::runtime_error("no wire vector named " + name + " in " + vectors_dir().string());
	return records;
}

} // namespace test_support
