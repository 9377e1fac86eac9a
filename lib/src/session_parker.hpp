// SPDX-License-Identifier: Apache-2.0
/// @file session_parker.hpp
/// Where quiet sessions wait without a thread: one epoll loop watches them
/// all and hands a session back (to a pool thread) when its next record
/// arrives, or closes it when its deadline (message or idle timeout) passes.
#pragma once

#include "session.hpp"
#include "unix_socket.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

namespace drpc::detail {

class SessionParker {
public:
	using Clock = std::chrono::steady_clock;
	/// Called on the parker's thread, without its lock; must not throw.
	using Handler = std::function<void(std::shared_ptr<Session>)>;

	/// `on_ready`: the session has a record (or EOF) to read. `on_expired`:
	/// its deadline passed. Throws SystemError when epoll cannot be set up.
	SessionParker(Handler on_ready, Handler on_expired);
	/// Calls stop().
	~SessionParker();
	SessionParker(const SessionParker &) = delete;
	SessionParker &operator=(const SessionParker &) = delete;

	/// Starts the loop's thread. Throws std::system_error.
	void start();

	/// Watches `session` until it is readable or `deadline`. Throws
	/// SystemError (epoll_ctl) or std::bad_alloc; the session is then not
	/// taken.
	void park(std::shared_ptr<Session> session, std::optional<Clock::time_point> deadline);

	/// Ends the loop and hands every session still parked to `on_expired`.
	void stop() noexcept;

	[[nodiscard]] size_t parked() const noexcept;

private:
	struct Entry {
		std::shared_ptr<Session> session;
		std::optional<Clock::time_point> deadline;
	};

	void loop() noexcept;
	/// Takes the entry for `fd` out of the watch; empty when none.
	std::shared_ptr<Session> take(int fd) noexcept;
	/// Sessions whose deadline has passed, taken out; and the next deadline.
	std::pair<std::vector<std::shared_ptr<Session>>, std::optional<Clock::time_point>> take_expired();

	Handler on_ready_;
	Handler on_expired_;
	UniqueFd epoll_;
	UniqueFd wake_; // eventfd: stop()
	std::thread thread_;
	mutable std::mutex mutex_;
	bool stopping_ = false;
	std::unordered_map<int, Entry> parked_;
	std::set<std::pair<Clock::time_point, int>> deadlines_;
};

} // namespace drpc::detail
