// SPDX-License-Identifier: Apache-2.0
/// @file drpc/lifecycle/plugin_check.hpp
/// What a start would load from a plugins directory and what it would
/// refuse, found without mapping or running any plugin code.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <ostream>
#include <set>
#include <string>

namespace drpc::host {

struct PluginCheck {
	size_t loaded = 0;
	size_t refused = 0;
	/// The module names that would load.
	std::set<std::string, std::less<>> names;
};

/// Opens `plugins_dir` as a start would, reads each plugin's info record
/// from a private copy, and prints one line per plugin to `out`: "load
/// NAME: module ID (name version)" or "refuse NAME: reason". Throws
/// drpc::Error when the directory cannot be opened or listed.
[[nodiscard]] PluginCheck check_plugins(const std::filesystem::path &plugins_dir, bool strict_permissions,
                                        std::ostream &out);

} // namespace drpc::host
