// SPDX-License-Identifier: Apache-2.0
/// @file answer_sender.hpp
/// Where a deferred answer (drpc/deferred_answer.hpp) goes when its client's
/// socket cannot take all of it at once: one thread, started with the first
/// such answer, sends the rest as the socket drains, so that the thread
/// that answered (a module's own, which may answer many sessions) never
/// waits on one client. An answer not taken by its deadline closes its
/// session.
#pragma once

#include "unix_socket.hpp"

#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace drpc::detail {

class Session;

class AnswerSender {
public:
	using Clock = std::chrono::steady_clock;

	AnswerSender() = default;
	/// Calls stop().
	~AnswerSender();
	AnswerSender(const AnswerSender &) = delete;
	AnswerSender &operator=(const AnswerSender &) = delete;

	/// Sends the rest of `session`'s deferred answer (Session::send_more_of_answer)
	/// whenever its socket is writable, until it is all sent, then calls
	/// Session::answer_done(); at `deadline` (none: Clock::time_point::max())
	/// Session::answer_timed_out() instead. When the sender cannot take it
	/// (no thread, no memory, stopped), it is timed out at once.
	void add(Session &session, Clock::time_point deadline) noexcept;

	/// Times out every answer still held and joins the thread. Idempotent.
	void stop() noexcept;

private:
	struct Job {
		Session *session;
		Clock::time_point deadline;
	};
	/// Throws std::system_error.
	void start_locked();
	void loop() noexcept;
	/// Registers the jobs add() queued; those epoll refuses end at once.
	void watch_added() noexcept;
	void end(int fd, bool sent) noexcept;

	std::mutex mutex_;
	bool stopping_ = false;
	std::thread thread_;
	UniqueFd epoll_;
	UniqueFd wake_;
	std::vector<Job> added_;               // guarded by mutex_; not yet watched
	std::unordered_map<int, Job> watched_; // the loop's own; by session fd
};

} // namespace drpc::detail
