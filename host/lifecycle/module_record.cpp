// SPDX-License-Identifier: Apache-2.0
// A module record's text forms, and a file's identity.
#include <drpc/lifecycle/module_record.hpp>

#include <array>
#include <sys/stat.h>

namespace drpc::host {
namespace {

/// By the enumerators' order; an unknown value reads "unknown".
template <size_t N> std::string_view name_at(const std::array<std::string_view, N> &names, size_t index) noexcept
{
	return index < N ? names[index] : std::string_view("unknown");
}

} // namespace

std::string_view state_name(ModuleState state) noexcept
{
	static constexpr std::array<std::string_view, 6> names{"serving", "draining", "pinned",
	                                                       "failed",  "unloaded", "builtin"};
	return name_at(names, static_cast<size_t>(state));
}

std::string_view isolation_name(Isolation isolation) noexcept
{
	static constexpr std::array<std::string_view, 2> names{"in-process", "process"};
	return name_at(names, static_cast<size_t>(isolation));
}

FileIdentity FileIdentity::of(const std::filesystem::path &path) noexcept
{
	struct stat info {};
	if (::stat(path.c_str(), &info) != 0)
		return {};
	return {info.st_dev, info.st_ino, info.st_size, info.st_mtim};
}

bool FileIdentity::operator==(const FileIdentity &other) const noexcept
{
	return device == other.device && inode == other.inode && size == other.size &&
	       mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
}

} // namespace drpc::host
