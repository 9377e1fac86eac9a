// SPDX-License-Identifier: Apache-2.0
/// @file plugin_file.hpp
/// Safe access to the plugins directory: every plugin file is opened once,
/// without following links, checked through the open descriptor and copied
/// into the runtime directory, so that what was checked is what gets mapped.
#pragma once

#include "runtime_dir.hpp"

#include <drpc/lifecycle/lifecycle.hpp>
#include <drpc/unique_fd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

/// The plugins directory, opened once; plugin files are opened relative to
/// the descriptor, so renaming the directory mid-scan changes nothing.
class PluginDirectory {
public:
	/// Opens and (with `strict_permissions`) checks the directory: owned by
	/// the effective user or root, writable by neither group nor others.
	/// Files larger than `max_file_bytes` are refused.
	/// Throws drpc::Error naming the path.
	PluginDirectory(std::filesystem::path path, bool strict_permissions,
	                uint64_t max_file_bytes = max_plugin_file_bytes);
	~PluginDirectory();
	PluginDirectory(const PluginDirectory &) = delete;
	PluginDirectory &operator=(const PluginDirectory &) = delete;

	[[nodiscard]] const std::filesystem::path &path() const noexcept { return path_; }
	[[nodiscard]] bool strict_permissions() const noexcept { return strict_; }

	/// With strict_permissions, why the directory is no longer trusted
	/// (its owner or mode changed since it was opened), or nothing. Checked
	/// again by list() and copy_plugin(), so that a directory that became
	/// writable by others stops all loading from it.
	[[nodiscard]] std::optional<std::string> distrusted_because() const;

	/// The names of the plugin candidates in it (see plugin_names.hpp), in
	/// byte order so that load order is stable.
	/// Throws drpc::SystemError, or drpc::Error when no longer trusted.
	[[nodiscard]] std::vector<std::string> list() const;

	/// Opens `name` (O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC: no links, and
	/// a FIFO cannot block the host), checks that it is a regular file of
	/// at most max_file_bytes and, with strict_permissions, trusted like the
	/// directory (which is checked again first), then copies it, holes
	/// kept, into `runtime` as `<stem>.<generation>.so`. Returns the copy,
	/// open. Throws drpc::Error saying which check failed.
	[[nodiscard]] RuntimeFile copy_plugin(std::string_view name, RuntimeDir &runtime, uint64_t generation) const;

private:
	std::filesystem::path path_;
	bool strict_;
	uint64_t max_file_bytes_;
	drpc::UniqueFd fd_;
};

} // namespace drpc::host
