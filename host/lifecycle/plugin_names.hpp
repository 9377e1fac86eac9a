// SPDX-License-Identifier: Apache-2.0
/// @file plugin_names.hpp
/// Which file names in the plugins directory are plugins: one rule for the
/// start-up scan, SIGHUP rescans and the directory watcher alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drpc::host {

/// Whether `name` may be a plugin: a `.so` that is not hidden and not an
/// editor's or a build tool's temporary file. Otherwise, why not.
[[nodiscard]] std::optional<std::string> why_not_a_plugin_name(std::string_view name);

} // namespace drpc::host
