// SPDX-License-Identifier: Apache-2.0
// The domain socket server: accepts connections, gives each a session
// thread, and shuts down in order (listener, sessions, socket file).
#include "session.hpp"
#include "session_threads.hpp"
#include "socket_file.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#include <unordered_set>

namespace drpc {

class DomainSocketServer::Impl {
public:
	explicit Impl(ServerOptions options) : options_(std::move(options)), threads_(options_.spare_threads)
	{
		if (options_.max_message_bytes <= codec::max_response_overhead)
			throw Error("server " + options_.socket_path.string() + ": max_message_bytes " +
			            std::to_string(options_.max_message_bytes) + " is too small");
	}

	void start()
	{
		const std::lock_guard lock(lifecycle_);
		if (started_)
			throw Error("server " + options_.socket_path.string() + ": already started");
		listener_ = options_.listen_fd >= 0 ? detail::adopt_listener(std::exchange(options_.listen_fd, -1),
		                                                             options_.socket_path)
		                                    : detail::listen_at(options_.socket_path, options_.socket_mode,
		                                                        options_.unlink_stale_socket);
		started_ = true;
		accept_thread_ = std::thread(&Impl::accept_loop, this);
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
			accept_thread_.join();
			detail::remove_socket_file(options_.socket_path, listener_);
			listener_.fd.reset();
			listener_closed_ = true;
		}

		std::unique_lock sessions_lock(sessions_mutex_);
		for (detail::Session *session : sessions_)
			session->stop();
		const auto all_closed = [this] { return sessions_.empty(); };
		bool drained = true;
		if (drain_deadline == std::chrono::milliseconds::max())
			sessions_changed_.wait(sessions_lock, all_closed);
		else
			drained = sessions_changed_.wait_for(sessions_lock, drain_deadline, all_closed);
		if (!drained) {
			log::warn("server", std::to_string(sessions_.size()) +
			                            " session(s) still running a call at the shutdown deadline");
			return false;
		}
		sessions_lock.unlock();
		threads_.stop();
		stopped_ = true;
		log::info("server", (listener_.adopted ? "stopped; left the adopted socket " : "stopped; removed ") +
		                            options_.socket_path.string());
		return true;
	}

	ServerStats stats() const noexcept
	{
		return {sessions_open_.load(), sessions_total_.load(), sessions_refused_.load(), calls_served_.load()};
	}

	ServerOptions options_;
	ModuleRegistry registry_;

private:
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
				log::error("server",
				           "accept on " + options_.socket_path.string() + ": " + std::strerror(error));
				// Out of descriptors or memory: back off instead of spinning.
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

	void admit(detail::UniqueFd fd) noexcept
	{
		try {
			if (sessions_open_.load() >= options_.max_sessions) {
				sessions_refused_.fetch_add(1);
				log::warn("server", "refusing a connection: " + std::to_string(options_.max_sessions) +
				                            " sessions are open (limits.max_sessions)");
				return; // fd closes here
			}
			auto session = std::make_shared<detail::Session>(
				std::move(fd),
				detail::SessionShared{registry_, calls_served_, options_.max_message_bytes});
			{
				const std::lock_guard lock(sessions_mutex_);
				sessions_.insert(session.get());
			}
			sessions_open_.fetch_add(1);
			sessions_total_.fetch_add(1);
			log::debug("server", "accepted " + session->description());
			threads_.run([this, session] { serve(*session); });
		} catch (const std::exception &e) {
			log::error("server", std::string("cannot start a session: ") + e.what());
		}
	}

	void serve(detail::Session &session) noexcept
	{
		try {
			session.run();
		} catch (const std::exception &e) {
			log::error("server", session.description() + ": " + e.what());
		}
		log::debug("server", "closed " + session.description());
		const std::lock_guard lock(sessions_mutex_);
		sessions_.erase(&session);
		sessions_open_.fetch_sub(1);
		sessions_changed_.notify_all();
	}

	detail::ListeningSocket listener_;
	std::thread accept_thread_;
	detail::SessionThreads threads_;
	std::atomic<bool> stopping_{false};
	std::mutex lifecycle_;
	bool started_ = false;
	bool stopped_ = false;
	bool listener_closed_ = false;

	std::mutex sessions_mutex_;
	std::condition_variable sessions_changed_;
	std::unordered_set<detail::Session *> sessions_;

	std::atomic<uint64_t> sessions_open_{0};
	std::atomic<uint64_t> sessions_total_{0};
	std::atomic<uint64_t> sessions_refused_{0};
	std::atomic<uint64_t> calls_served_{0};
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
