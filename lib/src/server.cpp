// SPDX-License-Identifier: Apache-2.0
// The domain socket server: admits connections within the session limits,
// serves each on a pool thread while busy and in the parker while quiet, and
// shuts down in order (listener, sessions, threads, socket file).
#include "answer_sender.hpp"
#include "inflight_budget.hpp"
#include "server_counters.hpp"
#include "server_log_limits.hpp"
#include "session.hpp"
#include "session_parker.hpp"
#include "session_quota.hpp"
#include "session_threads.hpp"
#include "socket_file.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace drpc {
namespace {

/// Descriptors the server needs besides one per session (listener, epoll,
/// the spare, logs, plugins).
constexpr rlim_t fd_headroom = 64;

/// Raises the soft RLIMIT_NOFILE towards what `max_sessions` needs, as far
/// as the hard limit allows, and says so when that is not enough.
void raise_fd_limit(size_t max_sessions) noexcept
{
	rlimit limit{};
	if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return;
	const rlim_t wanted = static_cast<rlim_t>(max_sessions) + fd_headroom;
	if (limit.rlim_cur >= wanted)
		return;
	const rlim_t before = limit.rlim_cur;
	limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
	if (limit.rlim_cur > before && ::setrlimit(RLIMIT_NOFILE, &limit) != 0)
		limit.rlim_cur = before;
	if (limit.rlim_cur < wanted)
		log::warn("server", "limits.max_sessions " + std::to_string(max_sessions) + " needs " +
		                            std::to_string(wanted) + " descriptors, the hard RLIMIT_NOFILE allows " +
		                            std::to_string(limit.rlim_cur) +
		                            "; raise it (LimitNOFILE=, ulimit -Hn) or lower limits.max_sessions");
}

/// What to do about a thread that cannot be started.
constexpr std::string_view thread_limit_hint =
	"raise server.max_threads, or the system's limits on threads (RLIMIT_NPROC, the pids cgroup) or on "
	"memory (RLIMIT_DATA and RLIMIT_AS count each thread's stack)";

} // namespace

class DomainSocketServer::Impl {
public:
	explicit Impl(ServerOptions options)
		: options_(std::move(options)),
		  budget_(options_.max_inflight_bytes, options_.max_inflight_bytes_per_uid),
		  quota_({options_.max_sessions, options_.max_sessions_per_uid, options_.reserved_sessions,
	                  ::geteuid()}),
		  threads_(options_.spare_threads, options_.max_threads),
		  parker_([this](std::shared_ptr<detail::Session> session) { resume(std::move(session)); },
	                  [this](std::shared_ptr<detail::Session> session) { expire(std::move(session)); })
	{
		if (options_.max_message_bytes <= codec::max_response_overhead)
			throw Error("server " + options_.socket_path.string() + ": max_message_bytes " +
			            std::to_string(options_.max_message_bytes) + " is too small");
		if (options_.park_after.count() <= 0)
			throw Error("server " + options_.socket_path.string() + ": park_after must be at least 1 ms");
	}

	void start()
	{
		const std::lock_guard lock(lifecycle_);
		if (started_)
			throw Error("server " + options_.socket_path.string() + ": already started");
		raise_fd_limit(options_.max_sessions);
		// Kept for the moment the process runs out of descriptors: closed,
		// it lets one more connection be accepted and refused at once.
		spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
		listener_ = options_.listen_fd >= 0 ? detail::adopt_listener(std::exchange(options_.listen_fd, -1),
		                                                             options_.socket_path)
		                                    : detail::listen_at(options_.socket_path, options_.socket_mode,
		                                                        options_.unlink_stale_socket);
		started_ = true;
		try {
			parker_.start();
			accept_thread_ = std::thread(&Impl::accept_loop, this);
		} catch (const std::system_error &e) {
			undo_start();
			throw SystemError("server " + options_.socket_path.string() + ": cannot start its threads (" +
			                          std::string(thread_limit_hint) + ")",
			                  e.code().value());
		} catch (...) {
			undo_start();
			throw;
		}
		log::info("server", "listening on " + options_.socket_path.string());
	}

	bool shutdown(std::chrono::milliseconds drain_deadline)
	{
		const std::lock_guard lock(lifecycle_);
		if (!started_ || stopped_)
			return true;
		if (!listener_closed_) {
			stopping_.store(true);
			detail::interrupt_accept(listener_); // wakes accept()
			if (accept_thread_.joinable())
				accept_thread_.join();
			socket_outcome_ = detail::remove_socket_file(options_.socket_path, listener_);
			listener_.fd.reset();
			listener_closed_ = true;
		}

		std::unique_lock sessions_lock(sessions_mutex_);
		for (detail::Session *session : sessions_)
			session->stop();
		const auto all_closed = [this] { return sessions_.empty(); };
		const bool forever = drain_deadline == std::chrono::milliseconds::max();
		const auto deadline = forever ? std::chrono::steady_clock::time_point::max()
		                              : std::chrono::steady_clock::now() + drain_deadline;
		// Answers in flight get a moment to be read; after that an answer
		// nobody reads is cut, so that only handlers can hold shutdown up.
		constexpr auto step = std::chrono::milliseconds(50);
		bool handlers_running = false;
		while (!all_closed()) {
			const auto now = std::chrono::steady_clock::now();
			if (now >= deadline)
				break;
			sessions_changed_.wait_until(sessions_lock, std::min(deadline, now + step), all_closed);
			handlers_running = false;
			for (detail::Session *session : sessions_)
				handlers_running |= !session->cut_unread_answer();
		}
		if (!all_closed()) {
			log::warn("server", std::to_string(sessions_.size()) + " session(s) still " +
			                            (handlers_running ? "running a call" : "closing") +
			                            " at the shutdown deadline");
			return false;
		}
		sessions_lock.unlock();
		parker_.stop();
		threads_.stop();
		sender_.stop();
		stopped_ = true;
		log::info("server", "stopped; " + socket_outcome_);
		return true;
	}

	ServerStats stats() const noexcept
	{
		ServerStats stats{sessions_open_.load(), sessions_total_.load(), sessions_refused_.load(),
		                  calls_served_.load(),  parker_.parked(),       budget_.in_use(),
		                  budget_.peak()};
		counters_.fill(stats);
		return stats;
	}

	ServerOptions options_;
	ModuleRegistry registry_;

private:
	/// After start() could not start its threads: so that shutdown() (and the
	/// destructor) finds nothing to wait for, a server that never served is
	/// simply stopped.
	void undo_start() noexcept
	{
		parker_.stop();
		socket_outcome_ = detail::remove_socket_file(options_.socket_path, listener_);
		listener_.fd.reset();
		listener_closed_ = true;
		stopped_ = true;
	}

	void accept_loop() noexcept
	{
		while (!stopping_.load()) {
			const int fd = ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
			if (fd < 0) {
				const int error = errno;
				if (stopping_.load())
					return;
				if (error == EINTR || error == ECONNABORTED)
					continue;
				if ((error == EMFILE || error == ENFILE) && refuse_with_spare_fd(error))
					continue;
				log::error(detail::log_limits::accept_errors, "server",
				           "accept on " + options_.socket_path.string() + ": " + std::strerror(error));
				// Out of memory: back off instead of spinning.
				std::this_thread::sleep_for(std::chrono::milliseconds(10));
				continue;
			}
			if (stopping_.load()) {
				::close(fd); // interrupt_accept()'s own connection, or one too late
				return;
			}
			admit(detail::UniqueFd(fd));
		}
	}

	/// Out of descriptors (accept fails at once, connection or not): waits
	/// for a connection, and when there is still no descriptor for it,
	/// frees the spare to accept it and close it at once, so that its client
	/// sees EOF rather than a hang. False when that cannot be done.
	bool refuse_with_spare_fd(int error) noexcept
	{
		pollfd pending{listener_.fd.get(), POLLIN, 0};
		if (::poll(&pending, 1, 100) <= 0 || stopping_.load())
			return true; // nothing to refuse yet; accept() is tried again
		int fd = ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(detail::UniqueFd(fd)); // descriptors were freed meanwhile
			return true;
		}
		if ((errno != EMFILE && errno != ENFILE) || !spare_fd_.valid())
			return false;
		spare_fd_.reset();
		fd = ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
		if (fd >= 0) {
			const PeerCredentials peer = detail::peer_credentials(fd);
			::close(fd);
			sessions_refused_.fetch_add(1);
			detail::count(counters_.refused_no_descriptor);
			log::warn(detail::log_limits::refused_no_fd, "server",
			          "refused a connection from pid " + std::to_string(peer.pid) + ", uid " +
			                  std::to_string(peer.uid) + ": out of file descriptors (" +
			                  std::strerror(error) +
			                  "); raise RLIMIT_NOFILE (LimitNOFILE=) or lower limits.max_sessions");
		}
		spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
		return fd >= 0;
	}

	void admit(detail::UniqueFd fd) noexcept
	{
		const PeerCredentials peer = detail::peer_credentials(fd.get());
		const std::string who = "pid " + std::to_string(peer.pid) + ", uid " + std::to_string(peer.uid);
		try {
			if (auto why = quota_.admit(peer.uid)) {
				sessions_refused_.fetch_add(1);
				detail::count(counters_.refused_session_limit);
				log::warn(detail::log_limits::refused_by_quota, "server",
				          "refused a connection from " + who + ": " + *why);
				return; // fd closes here
			}
		} catch (const std::exception &e) {
			sessions_refused_.fetch_add(1);
			log::error(detail::log_limits::refused_no_thread, "server",
			           "refused a connection from " + who + ": " + e.what());
			return;
		}
		// From here on, every failure undoes the admission above and closes
		// only this connection.
		try {
			auto session = std::make_shared<detail::Session>(std::move(fd), peer, shared());
			// Registered and counted only together with the thread that
			// serves it: the lock keeps that thread from finishing first.
			const std::lock_guard lock(sessions_mutex_);
			sessions_.insert(session.get());
			try {
				threads_.run([this, session] { serve(session); });
			} catch (...) {
				sessions_.erase(session.get());
				throw;
			}
			sessions_open_.fetch_add(1);
			sessions_total_.fetch_add(1);
			log::debug("server", "accepted " + session->description());
		} catch (const std::exception &e) {
			quota_.leave(peer.uid);
			sessions_refused_.fetch_add(1);
			detail::count(counters_.refused_no_thread);
			log::error(detail::log_limits::refused_no_thread, "server",
			           "refused a connection from " + who + ": cannot start a session: " + e.what() + "; " +
			                   std::string(thread_limit_hint));
		}
	}

	[[nodiscard]] detail::SessionShared shared() noexcept
	{
		return {registry_,
		        calls_served_,
		        counters_,
		        budget_,
		        sender_,
		        options_.max_message_bytes,
		        options_.park_after,
		        options_.message_timeout,
		        options_.send_timeout,
		        options_.idle_timeout};
	}

	void serve(const std::shared_ptr<detail::Session> &session) noexcept
	{
		detail::Session::Outcome outcome = detail::Session::Outcome::closed;
		try {
			outcome = session->run();
		} catch (const std::exception &e) {
			log::error("server", session->description() + ": " + e.what());
		}
		if (outcome == detail::Session::Outcome::parked) {
			try {
				parker_.park(session, session->prepare_to_park());
				return;
			} catch (const SystemError &e) {
				if (e.code() != ESHUTDOWN)
					log::error("server", session->description() + ": cannot park: " + e.what());
			} catch (const std::exception &e) {
				log::error("server", session->description() + ": cannot park: " + e.what());
			}
		}
		finish(*session);
	}

	/// The parker's: a parked session has a record to read.
	void resume(std::shared_ptr<detail::Session> session) noexcept
	{
		try {
			threads_.run([this, session] { serve(session); });
		} catch (const std::exception &e) {
			detail::count(counters_.refused_no_thread);
			log::error(detail::log_limits::refused_no_thread, "server",
			           session->description() + ": closing: no thread to serve its next call: " + e.what() +
			                   "; " + std::string(thread_limit_hint));
			finish(*session);
		}
	}

	/// The parker's: a parked session's deadline passed (or shutdown).
	void expire(std::shared_ptr<detail::Session> session) noexcept
	{
		if (!stopping_.load()) {
			detail::count(session->in_message() ? counters_.closed_message_timeout
			                                    : counters_.closed_idle_timeout);
			log::warn(detail::log_limits::expired_sessions, "server",
			          session->description() + ": closing: " + session->expiry_reason());
		}
		finish(*session);
	}

	void finish(detail::Session &session) noexcept
	{
		log::debug("server", "closed " + session.description());
		quota_.leave(session.peer().uid);
		const std::lock_guard lock(sessions_mutex_);
		sessions_.erase(&session);
		sessions_open_.fetch_sub(1);
		sessions_changed_.notify_all();
	}

	detail::ListeningSocket listener_;
	detail::UniqueFd spare_fd_;
	std::thread accept_thread_;
	detail::InflightBudget budget_;
	detail::SessionQuota quota_;
	detail::SessionThreads threads_;
	detail::SessionParker parker_;
	std::atomic<bool> stopping_{false};
	std::mutex lifecycle_;
	bool started_ = false;
	bool stopped_ = false;
	bool listener_closed_ = false;
	std::string socket_outcome_; // what shutdown did with the socket file, for its log line

	std::mutex sessions_mutex_;
	std::condition_variable sessions_changed_;
	std::unordered_set<detail::Session *> sessions_;

	std::atomic<uint64_t> sessions_open_{0};
	std::atomic<uint64_t> sessions_total_{0};
	std::atomic<uint64_t> sessions_refused_{0};
	std::atomic<uint64_t> calls_served_{0};
	detail::ServerCounters counters_;
	// Last, so first to go: its thread may hold sessions, which use the above.
	detail::AnswerSender sender_;
};

DomainSocketServer::DomainSocketServer(std::filesystem::path socket_path, mode_t socket_mode)
	: DomainSocketServer(ServerOptions{.socket_path = std::move(socket_path), .socket_mode = socket_mode})
{
}

DomainSocketServer::DomainSocketServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

DomainSocketServer::~DomainSocketServer() { impl_->shutdown(std::chrono::milliseconds::max()); }

void DomainSocketServer::register_module(std::shared_ptr<Module> module) { impl_->registry_.add(std::move(module)); }

ModuleRegistry &DomainSocketServer::modules() noexcept { return impl_->registry_; }

void DomainSocketServer::start() { impl_->start(); }

bool DomainSocketServer::shutdown(std::chrono::milliseconds drain_deadline) { return impl_->shutdown(drain_deadline); }

ServerStats DomainSocketServer::stats() const noexcept { return impl_->stats(); }

const ServerOptions &DomainSocketServer::options() const noexcept { return impl_->options_; }

} // namespace drpc
