// SPDX-License-Identifier: Apache-2.0
// Watches the plugins directory with inotify, coalescing each file's burst
// of events (create, writes, close, rename) into one change, reported only
// once no writer has the file open.
#include "plugin_watcher.hpp"

#include "write_lease.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace drpc::host {
namespace {

constexpr uint32_t watched_events = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

} // namespace

PluginWatcher::PluginWatcher(std::filesystem::path directory, std::chrono::milliseconds settle)
	: directory_(std::move(directory)), settle_(settle)
{
	fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	if (!fd_.valid())
		throw SystemError("watching plugins directory " + directory_.string() + ": inotify_init1", errno);
	if (::inotify_add_watch(fd_.get(), directory_.c_str(), watched_events | IN_ONLYDIR) < 0)
		throw SystemError("watching plugins directory " + directory_.string(), errno);
	dir_fd_.reset(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!dir_fd_.valid())
		throw SystemError("plugins directory " + directory_.string(), errno);
}

PluginWatcher::~PluginWatcher() = default;

void PluginWatcher::read_events()
{
	alignas(inotify_event) std::array<char, 16384> buffer;
	for (;;) {
		const ssize_t size = ::read(fd_.get(), buffer.data(), buffer.size());
		if (size <= 0) {
			if (size < 0 && errno == EINTR)
				continue;
			return; // EAGAIN: drained
		}
		// Stamped when read, so that a file settles no earlier than it should.
		const auto now = Clock::now();
		for (ssize_t offset = 0; offset < size;) {
			const auto *event = reinterpret_cast<const inotify_event *>(buffer.data() + offset);
			offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
			if ((event->mask & IN_Q_OVERFLOW) != 0) {
				log::warn("watcher", "inotify queue overflowed for " + directory_.string() +
				                             "; send SIGHUP to rescan it");
				continue;
			}
			if ((event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
				log::error("watcher", "plugins directory " + directory_.string() +
				                              " was removed or moved; no longer watching it");
				continue;
			}
			if (event->len == 0)
				continue;
			note(event->name, event->mask, now);
		}
	}
}

void PluginWatcher::note(std::string_view name, uint32_t mask, Clock::time_point now)
{
	auto it = pending_.find(name);
	if (it == pending_.end()) {
		if (auto why = why_not_a_plugin_name(name)) {
			// Once per burst: the entry is kept (and logged) until it settles.
			static log::RateLimit limit("watcher ignoring", 50);
			limit.write(log::Level::info, "watcher",
			            "ignoring " + directory_.string() + "/" + log::untrusted(name) + ": " + *why);
		}
		it = pending_.emplace(std::string(name), Pending{}).first;
	}
	Pending &pending = it->second;
	pending.last_event = now;
	// Only a write says a writer is at work: a hard link or mknod creates a
	// file that is never written or closed.
	if ((mask & IN_MODIFY) != 0 && (mask & IN_ISDIR) == 0)
		pending.open_for_writing = true;
	if ((mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0)
		pending.open_for_writing = false;
	if ((mask & (IN_DELETE | IN_MOVED_FROM)) != 0) {
		pending.removed = true;
		pending.open_for_writing = false;
	}
	if ((mask & (IN_CREATE | IN_MOVED_TO)) != 0)
		pending.removed = false;
}

std::vector<PluginFileEvent> PluginWatcher::take_settled(Clock::time_point now)
{
	std::vector<PluginFileEvent> settled;
	for (auto it = pending_.begin(); it != pending_.end();) {
		const Pending &pending = it->second;
		if (pending.open_for_writing || now - pending.last_event < settle_) {
			++it;
			continue;
		}
		if (!pending.removed && !why_not_a_plugin_name(it->first) &&
		    open_writers_at(dir_fd_.get(), it->first.c_str()) == Writers::some) {
			// Created (a linker opens its output with O_CREAT|O_TRUNC and may
			// not write for a while) and still open for writing: wait for its
			// IN_CLOSE_WRITE rather than read half a file.
			it->second.open_for_writing = true;
			++it;
			continue;
		}
		if (!why_not_a_plugin_name(it->first)) {
			settled.push_back(
				{pending.removed ? PluginFileEvent::Kind::removed : PluginFileEvent::Kind::changed,
			         it->first});
		}
		it = pending_.erase(it);
	}
	return settled;
}

std::optional<std::chrono::milliseconds> PluginWatcher::next_due(Clock::time_point now) const
{
	std::optional<std::chrono::milliseconds> due;
	for (const auto &[name, pending] : pending_) {
		if (pending.open_for_writing)
			continue;
		const auto left = std::chrono::ceil<std::chrono::milliseconds>(pending.last_event + settle_ - now);
		const auto clamped = std::max(left, std::chrono::milliseconds(0));
		if (!due || clamped < *due)
			due = clamped;
	}
	return due;
}

} // namespace drpc::host
