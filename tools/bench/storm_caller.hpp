// SPDX-License-Identifier: Apache-2.0
/// @file storm_caller.hpp
/// The storm's clients: load connections that count what goes wrong instead
/// of stopping at it, and the probe that watches for a new build to answer.
#pragma once

#include "load_generator.hpp"
#include "storm_host.hpp"

#include <drpc/client.hpp>
#include <drpc/message.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace drpc::bench {

/// Every answer seen during the run, across connections and the probe.
class AnswerTally {
public:
	struct Counts {
		uint64_t calls = 0;
		/// Errors (send, receive, timeout) and statuses other than SUCCESS.
		uint64_t failed = 0;
		/// SUCCESS answers from neither build: not "A" or "B" and the body.
		uint64_t foreign = 0;
	};

	/// Classifies one answer to a call with `body`; returns the build that
	/// gave it, or nothing (counted as failed or foreign).
	std::optional<StormBuild> record(const Response &response, const std::string &body);
	/// Counts a call that threw.
	void record_error(const std::string &what);

	[[nodiscard]] Counts counts() const noexcept;
	/// The first failure or foreign answer, described; empty when none.
	[[nodiscard]] std::string first_problem() const;

private:
	void note(const std::string &what);

	std::atomic<uint64_t> calls_{0};
	std::atomic<uint64_t> failed_{0};
	std::atomic<uint64_t> foreign_{0};
	mutable std::mutex mutex_;
	std::string first_problem_;
};

/// A call to storm method 0 with `body`, the answer checked and tallied.
/// After an error it reconnects on the next call.
class StormConnection {
public:
	/// Connects; throws drpc::Error.
	StormConnection(const std::filesystem::path &socket_path, std::string body, AnswerTally &tally);
	/// One call; returns the build that answered, nothing on a failure
	/// (tallied). Throws drpc::Error only when reconnecting fails.
	std::optional<StormBuild> call();

private:
	ClientConnection connection_;
	Call call_;
	AnswerTally &tally_;
};

/// A load connection of the storm: never throws for a failed call.
class StormCaller final : public Caller {
public:
	StormCaller(const std::filesystem::path &socket_path, unsigned index, AnswerTally &tally);
	void call() override { (void)connection_.call(); }

private:
	StormConnection connection_;
};

/// Polls with small calls on a thread of its own, noting when each build
/// starts answering. Its own thread, because the rename that installs a
/// build can block its caller long after the build is serving (the file
/// system frees the replaced file).
class BuildProbe {
public:
	using Clock = std::chrono::steady_clock;

	/// Connects and starts polling; throws drpc::Error.
	BuildProbe(const std::filesystem::path &socket_path, AnswerTally &tally);
	/// Calls stop().
	~BuildProbe();
	BuildProbe(const BuildProbe &) = delete;
	BuildProbe &operator=(const BuildProbe &) = delete;

	/// When `build` began answering, provided that was at or after `since`
	/// (an answer from another build came after `since` first, or none came
	/// before); nothing if that had not happened by `deadline` or the probe
	/// stopped.
	std::optional<Clock::time_point> wait_for(StormBuild build, Clock::time_point since,
	                                          Clock::time_point deadline);

	void stop() noexcept;
	/// Why polling ended early (the connection could not be remade); empty otherwise.
	[[nodiscard]] std::string error() const;

private:
	void poll() noexcept;

	StormConnection connection_;
	mutable std::mutex mutex_;
	std::condition_variable changed_;
	std::optional<StormBuild> current_; // the build of the latest good answer
	Clock::time_point since_;           // when current_ gave its first answer in a row
	bool stopping_ = false;
	std::string error_;
	std::thread thread_;
};

} // namespace drpc::bench
