// SPDX-License-Identifier: Apache-2.0
/// @file plugin_set.hpp
/// The plugins the host has loaded, and the rules for joining them: one
/// module per ID, one per name, none in the reserved range.
#pragma once

#include "plugin_file.hpp"
#include "plugin_loader.hpp"
#include "plugin_module.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

/// A file that was refused, and why.
struct PluginFailure {
	std::filesystem::path source;
	uint64_t generation = 0;
	std::string error;
};

/// Not thread-safe: one thread loads and unloads.
class PluginSet {
public:
	/// `loader` must outlive the set.
	explicit PluginSet(PluginLoader &loader) noexcept : loader_(loader) {}

	/// Loads every plugin candidate of `directory` in sorted order. A
	/// refused file is logged and kept in failures(); the others go on.
	/// Throws drpc::Error only when the directory cannot be listed.
	void load_directory(const PluginDirectory &directory);

	/// Loads one file under the set's rules, logging the outcome
	/// ("loaded module ..." or "refused <file>: <why>").
	LoadResult load(const PluginDirectory &directory, std::string_view name);

	/// Why a module described by `info`, from `source`, may not join the
	/// set, or nothing. An ID or name held by an earlier generation of the
	/// same file does not count against it: that is a reload.
	[[nodiscard]] std::optional<std::string> admission(const drpc_plugin_info &info,
	                                                   const std::filesystem::path &source) const;

	/// Loaded modules in load order.
	[[nodiscard]] const std::vector<std::shared_ptr<PluginModule>> &modules() const noexcept { return modules_; }
	[[nodiscard]] const std::vector<PluginFailure> &failures() const noexcept { return failures_; }
	[[nodiscard]] std::shared_ptr<PluginModule> find(int32_t id) const;

	/// Takes a module out of the set; it is unloaded when its last
	/// reference goes. Null when no module has that ID.
	std::shared_ptr<PluginModule> take(int32_t id);

	/// Adds a module loaded under admission() (used by reloads, which load
	/// through the loader themselves).
	void adopt(std::shared_ptr<PluginModule> module);

	/// The module loaded from `source`, or null.
	[[nodiscard]] std::shared_ptr<PluginModule> find_source(const std::filesystem::path &source) const;

private:
	PluginLoader &loader_;
	std::vector<std::shared_ptr<PluginModule>> modules_;
	std::vector<PluginFailure> failures_;
};

} // namespace drpc::host
