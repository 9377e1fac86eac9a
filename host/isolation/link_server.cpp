// SPDX-License-Identifier: Apache-2.0
// The worker's side of the host's link (see link_server.hpp).
#include "link_server.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/log.hpp>

#include <atomic>
#include <pthread.h>
#include <shared_mutex>
#include <sys/socket.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "worker";

/// How often the standby looks, and how many quiet looks before it sleeps.
constexpr std::chrono::milliseconds standby_tick{1};
constexpr int quiet_ticks_before_sleep = 100;

drpc::log::RateLimit no_standby{"links left without a standby thread"};
drpc::log::RateLimit handler_threw{"calls whose handler threw in a worker"};

// The reader's state in one word, so that a takeover and the reader's own
// steps are each one compare-and-swap: the reader's epoch (a takeover
// starts a new one), the calls it started, and whether one is running.
constexpr uint64_t busy_bit = 1;
constexpr unsigned count_shift = 1;
constexpr unsigned epoch_shift = 48;
constexpr uint64_t count_mask = ((uint64_t{1} << (epoch_shift - count_shift)) - 1) << count_shift;

uint64_t epoch_of(uint64_t state) noexcept { return state >> epoch_shift; }
uint64_t with(uint64_t epoch, uint64_t state_count_bits, bool busy) noexcept
{
	return (epoch << epoch_shift) | (state_count_bits & count_mask) | (busy ? busy_bit : 0);
}

/// An answer being built: its body after room for the Response fields.
class AnswerBuffer final : public drpc::ResponseBody {
public:
	explicit AnswerBuffer(size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

	std::span<uint8_t> reserve(size_t size) noexcept override
	{
		if (size > max_body_bytes_)
			return {};
		try {
			storage_.resize(headroom + size);
		} catch (...) {
			return {};
		}
		size_ = size;
		return {storage_.data() + headroom, size};
	}
	void clear() noexcept
	{
		size_ = 0;
		if (storage_.capacity() > retained_bytes) {
			storage_.clear();
			storage_.shrink_to_fit();
		}
	}
	std::span<const uint8_t> encode(int64_t sequence, drpc::Status status)
	{
		if (storage_.size() < headroom + size_ || storage_.empty())
			storage_.resize(headroom + size_);
		const size_t body_size = status == drpc::Status::SUCCESS ? size_ : 0;
		uint8_t *body = storage_.data() + headroom;
		const size_t prefix = drpc::codec::encode_response_before(body, sequence, status, body_size);
		return {body - prefix, prefix + body_size};
	}

private:
	static constexpr size_t headroom = drpc::codec::max_response_overhead;
	static constexpr size_t retained_bytes = size_t{4} << 20;
	const size_t max_body_bytes_;
	std::vector<uint8_t> storage_;
	size_t size_ = 0;
};

} // namespace

/// One connection from the host, and the threads serving it.
struct LinkServer::Link : std::enable_shared_from_this<Link> {
	Link(LinkServer &server, int fd, drpc::PeerCredentials peer) : server(server), fd(fd), peer(peer) {}
	~Link() { ::close(fd); }

	/// Reads and runs calls while it is the reader of `epoch`.
	void read(uint64_t epoch) noexcept;
	/// Takes the link over from a reader stuck in a call.
	void stand_by() noexcept;
	void stop() noexcept;
	/// A call: its answer, sent. False when the link broke.
	bool serve(std::span<const uint8_t> message, AnswerBuffer &answer) noexcept;
	void send(std::span<const uint8_t> message);
	void start_standby() noexcept;

	LinkServer &server;
	const int fd;
	const drpc::PeerCredentials peer;
	std::atomic<uint64_t> state{0};
	std::shared_mutex send_turn;
	std::mutex mutex;
	std::condition_variable standby_wake;
	std::atomic<bool> standby_sleeping{false};
	bool stopping = false; // guarded by mutex
};

void LinkServer::Link::read(uint64_t epoch) noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-link-read");
	drpc::framing::MessageReader reader(server.max_message_bytes_);
	AnswerBuffer answer(server.max_message_bytes_ - drpc::codec::max_response_overhead);
	for (;;) {
		const auto result = reader.read(fd);
		if (result != drpc::framing::MessageReader::Result::message) {
			if (result == drpc::framing::MessageReader::Result::error)
				drpc::log::warn(log_component,
				                "the host's link broke: " + drpc::log::untrusted(reader.error()));
			stop();
			return;
		}
		uint64_t idle = state.load();
		if (epoch_of(idle) != (epoch & 0xffff) ||
		    !state.compare_exchange_strong(idle, with(epoch, idle + (uint64_t{1} << count_shift), true)))
			return; // cannot happen while not busy: no takeover then
		if (standby_sleeping.load()) {
			const std::lock_guard lock(mutex);
			standby_sleeping.store(false);
			standby_wake.notify_all();
		}
		if (!serve(reader.message(), answer)) {
			stop();
			return;
		}
		uint64_t busy = with(epoch, idle + (uint64_t{1} << count_shift), true);
		if (!state.compare_exchange_strong(busy, with(epoch, busy, false)))
			return; // taken over while in the call: the new reader goes on
	}
}

void LinkServer::Link::stand_by() noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-link-wait");
	uint64_t last = state.load();
	int quiet = 0;
	for (;;) {
		{
			std::unique_lock lock(mutex);
			if (standby_wake.wait_for(lock, standby_tick, [this] { return stopping; }))
				return;
		}
		uint64_t now = state.load();
		if ((now & busy_bit) != 0 && now == last) {
			const uint64_t epoch = epoch_of(now) + 1;
			if (state.compare_exchange_strong(now, with(epoch, now, false))) {
				start_standby();
				read(epoch);
				return;
			}
		}
		quiet = now == last ? quiet + 1 : 0;
		last = now;
		if (quiet < quiet_ticks_before_sleep)
			continue;
		std::unique_lock lock(mutex);
		standby_sleeping.store(true);
		// A call that started since the last look wakes nobody: look again.
		if (state.load() != last) {
			standby_sleeping.store(false);
			continue;
		}
		standby_wake.wait(lock, [this] { return !standby_sleeping.load() || stopping; });
		if (stopping)
			return;
		quiet = 0;
		last = state.load();
	}
}

void LinkServer::Link::start_standby() noexcept
{
	if (!server.spawn([self = shared_from_this()] { self->stand_by(); }))
		drpc::log::warn(no_standby, log_component,
		                "no thread for a standby reader: a long call holds up the next ones");
}

void LinkServer::Link::stop() noexcept
{
	{
		const std::lock_guard lock(mutex);
		stopping = true;
	}
	standby_wake.notify_all();
	::shutdown(fd, SHUT_RD);
}

bool LinkServer::Link::serve(std::span<const uint8_t> message, AnswerBuffer &answer) noexcept
{
	answer.clear();
	const auto call = drpc::codec::decode_call(
		std::string_view(reinterpret_cast<const char *>(message.data()), message.size()));
	int64_t sequence = -1;
	drpc::Status status = drpc::Status::FAILED_UNMARSHAL_CALL;
	if (call) {
		sequence = call->sequence;
		status = drpc::Status::UNKNOWN_MODULE;
		for (const std::shared_ptr<drpc::Module> &module : server.modules_) {
			if (module->id() != call->module)
				continue;
			const drpc::CallContext context{call->module, call->method, call->sequence, peer};
			try {
				status = module->handle_call(
					context,
					std::span(reinterpret_cast<const uint8_t *>(call->body.data()),
				                  call->body.size()),
					answer);
			} catch (const std::exception &e) {
				drpc::log::warn(handler_threw, log_component,
				                "module " + std::to_string(call->module) +
				                        " threw: " + drpc::log::untrusted(e.what()));
				status = drpc::Status::FAILURE;
			} catch (...) {
				status = drpc::Status::FAILURE;
			}
			break;
		}
	}
	try {
		send(answer.encode(sequence, status));
		return true;
	} catch (const std::exception &e) {
		drpc::log::warn(log_component, std::string("cannot answer the host: ") + e.what());
		return false;
	}
}

void LinkServer::Link::send(std::span<const uint8_t> message)
{
	// A one-record answer cannot interleave with another; a longer one goes
	// alone, so that nothing lands between its records.
	if (message.size() + drpc::framing::header_size <= drpc::framing::max_record_size) {
		const std::shared_lock turn(send_turn);
		drpc::framing::send_message(fd, message);
	} else {
		const std::unique_lock turn(send_turn);
		drpc::framing::send_message(fd, message);
	}
}

LinkServer::LinkServer(int listen_fd, std::vector<std::shared_ptr<drpc::Module>> modules, size_t max_message_bytes)
	: listen_fd_(listen_fd), modules_(std::move(modules)), max_message_bytes_(max_message_bytes)
{
}

LinkServer::~LinkServer() { shutdown(std::chrono::milliseconds::max()); }

void LinkServer::start() { acceptor_ = std::thread(&LinkServer::accept_loop, this); }

bool LinkServer::spawn(std::function<void()> work) noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (stopping_)
			return false;
		++threads_;
	}
	try {
		std::thread([this, work = std::move(work)] {
			work();
			const std::lock_guard lock(mutex_);
			--threads_;
			threads_changed_.notify_all();
		}).detach();
		return true;
	} catch (...) {
		const std::lock_guard lock(mutex_);
		--threads_;
		threads_changed_.notify_all();
		return false;
	}
}

void LinkServer::accept_loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-link-accept");
	for (;;) {
		const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; // shut down, or nothing more to accept
		}
		ucred credentials{};
		socklen_t length = sizeof(credentials);
		if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
			::close(fd);
			continue;
		}
		std::shared_ptr<Link> link;
		try {
			link = std::make_shared<Link>(
				*this, fd, drpc::PeerCredentials{credentials.pid, credentials.uid, credentials.gid});
			const std::lock_guard lock(mutex_);
			if (stopping_)
				return; // the link closes its fd
			links_.push_back(link);
		} catch (...) {
			if (!link)
				::close(fd);
			continue;
		}
		if (!spawn([link] { link->read(0); })) {
			drpc::log::warn(log_component, "no thread to serve a connection from the host");
			continue;
		}
		link->start_standby();
	}
}

bool LinkServer::shutdown(std::chrono::milliseconds drain)
{
	std::vector<std::shared_ptr<Link>> links;
	{
		const std::lock_guard lock(mutex_);
		if (!stopping_) {
			stopping_ = true;
			::shutdown(listen_fd_, SHUT_RDWR);
		}
		for (const std::weak_ptr<Link> &weak : links_)
			if (std::shared_ptr<Link> link = weak.lock())
				links.push_back(std::move(link));
	}
	if (acceptor_.joinable())
		acceptor_.join();
	for (const std::shared_ptr<Link> &link : links)
		link->stop();
	links.clear();
	std::unique_lock lock(mutex_);
	const auto none = [this] { return threads_ == 0; };
	if (drain == std::chrono::milliseconds::max()) {
		threads_changed_.wait(lock, none);
		return true;
	}
	return threads_changed_.wait_for(lock, drain, none);
}

} // namespace drpc::host::isolation
