// SPDX-License-Identifier: Apache-2.0
/// @file host_support.hpp
/// Helpers shared by the host's tests: temp directories, the test plugins,
/// captured log lines.
#pragma once

#include "temp_dir.hpp"
#include "test_files.hpp"

#include <drpc/log.hpp>
#include <drpc/message.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace host_test {

/// A fresh directory under /tmp, removed with everything in it.
using TempDir = test_support::TempDir;

/// The built test plugin `name` (e.g. "good" -> <build>/tests/host/plugins/good.so).
[[nodiscard]] std::filesystem::path test_plugin(const std::string &name);

/// Copies test plugin `name` into `dir` as `file_name` (default: name + ".so").
std::filesystem::path install_plugin(const std::filesystem::path &dir, const std::string &name,
                                     std::string file_name = {});

/// One call on a connection of its own (30 s call timeout).
[[nodiscard]] drpc::Response call(const std::filesystem::path &socket, int32_t module, int32_t method,
                                  const std::string &body);

void write_file(const std::filesystem::path &path, const std::string &contents);

/// Polls `done()` every few milliseconds until it holds or `limit` has passed
/// (a deadline only against hanging); returns done().
bool eventually(const std::function<bool()> &done, std::chrono::milliseconds limit = std::chrono::seconds(10));
using test_support::read_file;

/// Collects every log line while it lives (and still honours the level).
class LogCapture {
public:
	explicit LogCapture(drpc::log::Level level = drpc::log::Level::debug);
	~LogCapture();
	LogCapture(const LogCapture &) = delete;
	LogCapture &operator=(const LogCapture &) = delete;

	[[nodiscard]] std::vector<std::string> lines() const;
	/// The first line containing every one of `parts`, or "" when none does.
	[[nodiscard]] std::string find(std::initializer_list<std::string> parts) const;

private:
	mutable std::mutex mutex_;
	std::vector<std::string> lines_;
	drpc::log::Level previous_;
};

} // namespace host_test
