// SPDX-License-Identifier: Apache-2.0
/// @file plugin_watcher.hpp
/// Watches the plugins directory with inotify and reports, once a burst of
/// events for a file has settled, that the file changed or went away.
#pragma once

#include "plugin_names.hpp"

#include <drpc/unique_fd.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host {

/// What became of one file of the plugins directory.
struct PluginFileEvent {
	enum class Kind {
		changed, ///< appeared or replaced, and closed: (re)load it
		removed, ///< deleted or renamed away: unload its module
	};
	Kind kind;
	std::string name; ///< file name within the directory
};

class PluginWatcher {
public:
	using Clock = std::chrono::steady_clock;

	/// Starts watching `directory`. Throws drpc::SystemError naming it.
	/// Events for a file are reported once it has been quiet for `settle`.
	explicit PluginWatcher(std::filesystem::path directory,
	                       std::chrono::milliseconds settle = std::chrono::milliseconds(40));
	~PluginWatcher();
	PluginWatcher(const PluginWatcher &) = delete;
	PluginWatcher &operator=(const PluginWatcher &) = delete;

	/// The inotify descriptor, to poll for POLLIN.
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }

	/// Reads every queued inotify event without blocking. Files that are not
	/// plugin candidates are logged once per burst and otherwise ignored.
	void read_events();

	/// The settled events, by file name order. A file still open for
	/// writing is held back until it is closed: known from its events
	/// (written, not yet closed) and, for a file only created so far (a
	/// linker's output), from a read lease the kernel refuses while a writer
	/// has it open.
	[[nodiscard]] std::vector<PluginFileEvent> take_settled(Clock::time_point now = Clock::now());

	/// How long until the next pending file settles; nothing when none is pending.
	[[nodiscard]] std::optional<std::chrono::milliseconds> next_due(Clock::time_point now = Clock::now()) const;

	[[nodiscard]] const std::filesystem::path &directory() const noexcept { return directory_; }

private:
	struct Pending {
		Clock::time_point last_event;
		bool open_for_writing = false;
		bool removed = false;
	};

	void note(std::string_view name, uint32_t mask, Clock::time_point now);

	std::filesystem::path directory_;
	std::chrono::milliseconds settle_;
	drpc::UniqueFd fd_;     // inotify
	drpc::UniqueFd dir_fd_; // the directory, to ask about a file's writers
	std::map<std::string, Pending, std::less<>> pending_;
};

} // namespace drpc::host
