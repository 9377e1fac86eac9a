// SPDX-License-Identifier: Apache-2.0
// Counting this process's descriptors and mapped files through /proc/self.
#include "process_census.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace drpc::bench {
namespace {

constexpr std::string_view deleted_mark = " (deleted)";

/// The pathname column of one /proc/self/maps line: everything after the
/// fifth field, which may itself hold spaces. Empty for anonymous mappings.
std::string_view pathname_of(std::string_view line)
{
	size_t position = 0;
	for (int field = 0; field < 5; ++field) {
		position = line.find(' ', position);
		if (position == std::string_view::npos)
			return {};
		position = line.find_first_not_of(' ', position);
		if (position == std::string_view::npos)
			return {};
	}
	std::string_view path = line.substr(position);
	if (path.ends_with(deleted_mark))
		path.remove_suffix(deleted_mark.size());
	return path;
}

} // namespace

size_t count_open_fds()
{
	// The directory iterator holds one descriptor of its own while it reads.
	const auto entries = static_cast<size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
	                                                       std::filesystem::directory_iterator()));
	return entries == 0 ? 0 : entries - 1;
}

std::set<std::string> mapped_files_under(const std::filesystem::path &directory)
{
	std::ifstream maps("/proc/self/maps");
	if (!maps)
		throw std::runtime_error("cannot read /proc/self/maps");
	const std::string prefix = (directory / "").string();
	std::set<std::string> files;
	for (std::string line; std::getline(maps, line);) {
		const std::string_view path = pathname_of(line);
		if (path.starts_with(prefix))
			files.emplace(path);
	}
	return files;
}

size_t count_entries(const std::filesystem::path &directory)
{
	return static_cast<size_t>(
		std::distance(std::filesystem::directory_iterator(directory), std::filesystem::directory_iterator()));
}

} // namespace drpc::bench
