// SPDX-License-Identifier: Apache-2.0
/// @file plugin_support.hpp
/// Drives a built plugin .so through its C ABI exactly as the host does:
/// dlopen, drpc_plugin_entry, create, call, export/import, destroy.
#pragma once

#include "temp_dir.hpp"

#include <drpc/plugin.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace plugin_test {

/// `<build>/plugins/<name>.so`.
[[nodiscard]] std::filesystem::path plugin_path(std::string_view name);

/// A fresh directory under /tmp, removed with everything in it.
using TempDir = test_support::TempDir;

/// A plugin library opened with dlopen(RTLD_NOW | RTLD_LOCAL), closed on
/// destruction. Throws std::runtime_error with dlerror()'s text.
class Library {
public:
	explicit Library(const std::filesystem::path &path);
	~Library();
	Library(const Library &) = delete;
	Library &operator=(const Library &) = delete;

	[[nodiscard]] const drpc_plugin &plugin() const noexcept { return *plugin_; }
	/// dlsym() on the library: nullptr when the symbol is not exported.
	[[nodiscard]] void *symbol(const char *name) const noexcept;
	[[nodiscard]] void *handle() const noexcept { return handle_; }

private:
	void *handle_ = nullptr;
	const drpc_plugin *plugin_ = nullptr;
};

/// A status and the bytes written through drpc_output.
struct Answer {
	int32_t status = -1;
	std::string body;
};

/// One instance of a plugin, destroyed on destruction.
class Instance {
public:
	/// Throws std::runtime_error with the plugin's error message when create() fails.
	explicit Instance(const drpc_plugin &plugin, std::string_view config_json = "{}");
	~Instance();
	Instance(const Instance &) = delete;
	Instance &operator=(const Instance &) = delete;

	/// One call; answers larger than `max_answer_bytes` are refused as the
	/// host refuses them (reserve() returns NULL). Safe from several threads.
	[[nodiscard]] Answer call(int32_t method, std::string_view body,
	                          uint64_t max_answer_bytes = uint64_t{64} << 20) const;
	/// export_state(); the body is the state, or the error message on failure.
	[[nodiscard]] Answer export_state() const;
	/// import_state(); the body is the error message on failure.
	[[nodiscard]] Answer import_state(std::string_view state) const;
	/// describe() when the plugin's struct has it, else null.
	[[nodiscard]] const drpc_plugin_description *describe() const;

private:
	const drpc_plugin &plugin_;
	void *instance_ = nullptr;
};

/// create()'s error message for `config_json`, or "" when it succeeded.
[[nodiscard]] std::string create_error(const drpc_plugin &plugin, std::string_view config_json);

} // namespace plugin_test
