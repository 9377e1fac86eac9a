// SPDX-License-Identifier: Apache-2.0
// The worker's side of the host's link (see link_server.hpp).
#include "link_server.hpp"

#include "message_ring.hpp"
#include "send_turn.hpp"
#include "shared_region.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/log.hpp>

#include <atomic>
#include <optional>
#include <pthread.h>
#include <sched.h>
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

/// The call ring's reader runs SCHED_BATCH. The host's session thread
/// that pushes a call wakes it; as a normal thread it would preempt that
/// session thread on its CPU just before it goes back to its client's
/// socket, and run one call. As a batch thread it runs once the session
/// thread sleeps, by when more calls have often queued: at 8 connections
/// on 2 CPUs, about 12% more isolated calls/s, and the reader sleeps a
/// third as often (drpc-bench --isolation). Its nice value is kept: SCHED_BATCH
/// changes only how its wake-ups preempt. Any policy but SCHED_OTHER is
/// someone's choice (the host started under chrt, say) and is kept, as the
/// host's forwarding sessions keep it. If refused, it runs as before.
void run_as_batch() noexcept
{
	const sched_param none{};
	if (::sched_getscheduler(0) == SCHED_OTHER) // 0: this thread
		(void)::sched_setscheduler(0, SCHED_BATCH, &none);
}

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

/// One connection from the host, and the threads serving it: a lane for
/// the calls that come through its socket and, on the first connection,
/// one for those that come through the call ring.
struct LinkServer::Link : std::enable_shared_from_this<Link> {
	/// A source of calls, read by one thread at a time and taken over by
	/// its standby when a call runs long.
	struct Lane {
		Lane(const char *reader_name, const char *standby_name) noexcept
			: reader_name(reader_name), standby_name(standby_name)
		{
		}
		const char *const reader_name;
		const char *const standby_name;
		std::atomic<uint64_t> state{0};
		std::condition_variable standby_wake;
		std::atomic<bool> standby_sleeping{false};
	};

	Link(LinkServer &server, int fd, drpc::PeerCredentials peer, const SharedRegion *rings)
		: server(server), fd(fd), peer(peer)
	{
		if (rings != nullptr) {
			call_ring.emplace(rings->call_ring(), server.ring_spin_);
			answer_ring.emplace(rings->answer_ring());
		}
	}
	~Link() { ::close(fd); }

	/// Reads and runs calls while it is the reader of `epoch` on `lane`.
	void read(Lane &lane, uint64_t epoch) noexcept;
	/// The next call on `lane` (in `reader`, or copied into `copy`);
	/// nothing when the lane ended.
	std::optional<std::span<const uint8_t>> next(Lane &lane, drpc::framing::MessageReader &reader,
	                                             std::vector<uint8_t> &copy);
	/// Takes the lane over from a reader stuck in a call.
	void stand_by(Lane &lane) noexcept;
	void stop() noexcept;
	/// stop(), and the connection shut down both ways: the host sees it end.
	void abort() noexcept;
	/// A call: its answer, sent. False when the link broke.
	bool serve(std::span<const uint8_t> message, AnswerBuffer &answer) noexcept;
	void send(std::span<const uint8_t> message);
	/// Pushes an answer into the answer ring; false when it must go through
	/// the socket (too large, or the ring is full).
	bool push(std::span<const uint8_t> message);
	void start_standby(Lane &lane) noexcept;
	/// Starts the lanes' readers and standbys; false when none could start.
	bool start() noexcept;

	LinkServer &server;
	const int fd;
	const drpc::PeerCredentials peer;
	Lane socket_lane{"drpc-link-read", "drpc-link-wait"};
	Lane ring_lane{"drpc-ring-read", "drpc-ring-wait"};
	SendTurn send_turn;
	std::optional<MessageRing> call_ring;   // popped only by ring_lane's reader
	std::optional<MessageRing> answer_ring; // guarded by answer_ring_turn
	std::mutex answer_ring_turn;
	std::mutex mutex;
	bool stopping = false; // guarded by mutex
};

std::optional<std::span<const uint8_t>> LinkServer::Link::next(Lane &lane, drpc::framing::MessageReader &reader,
                                                               std::vector<uint8_t> &copy)
{
	if (&lane == &socket_lane) {
		const auto result = reader.read(fd);
		if (result != drpc::framing::MessageReader::Result::message) {
			if (result == drpc::framing::MessageReader::Result::error)
				drpc::log::warn(log_component,
				                "the host's link broke: " + drpc::log::untrusted(reader.error()));
			return std::nullopt;
		}
		return reader.message();
	}
	for (;;) {
		switch (call_ring->pop()) {
		case MessageRing::Result::done: {
			// Copied out of the ring's buffer: the next reader pops into it
			// while this call may still run.
			const std::span<const uint8_t> bytes = call_ring->message();
			copy.assign(bytes.begin(), bytes.end()); // within its capacity after the first calls
			return copy;
		}
		case MessageRing::Result::broken:
			drpc::log::warn(log_component,
			                "the host's call ring is inconsistent: " + std::string(call_ring->fault()));
			return std::nullopt;
		default:
			if (call_ring->stopped())
				return std::nullopt;
			call_ring->wait(std::chrono::milliseconds(-1));
		}
	}
}

void LinkServer::Link::read(Lane &lane, uint64_t epoch) noexcept
{
	::pthread_setname_np(::pthread_self(), lane.reader_name);
	if (&lane == &ring_lane)
		run_as_batch(); // also a standby taking the ring over
	drpc::framing::MessageReader reader(server.max_message_bytes_);
	AnswerBuffer answer(server.max_message_bytes_ - drpc::codec::max_response_overhead);
	std::vector<uint8_t> copy;
	for (;;) {
		std::optional<std::span<const uint8_t>> message;
		try {
			message = next(lane, reader, copy);
		} catch (...) {
			// No memory for the message: nothing left to stop on.
		}
		if (!message) {
			stop();
			return;
		}
		uint64_t idle = lane.state.load();
		if (epoch_of(idle) != (epoch & 0xffff) ||
		    !lane.state.compare_exchange_strong(idle, with(epoch, idle + (uint64_t{1} << count_shift), true)))
			return; // cannot happen while not busy: no takeover then
		if (lane.standby_sleeping.load()) {
			const std::lock_guard lock(mutex);
			lane.standby_sleeping.store(false);
			lane.standby_wake.notify_all();
		}
		if (!serve(*message, answer)) {
			stop();
			return;
		}
		uint64_t busy = with(epoch, idle + (uint64_t{1} << count_shift), true);
		if (!lane.state.compare_exchange_strong(busy, with(epoch, busy, false)))
			return; // taken over while in the call: the new reader goes on
	}
}

void LinkServer::Link::stand_by(Lane &lane) noexcept
{
	::pthread_setname_np(::pthread_self(), lane.standby_name);
	uint64_t last = lane.state.load();
	int quiet = 0;
	for (;;) {
		{
			std::unique_lock lock(mutex);
			if (lane.standby_wake.wait_for(lock, standby_tick, [this] { return stopping; }))
				return;
		}
		uint64_t now = lane.state.load();
		if ((now & busy_bit) != 0 && now == last) {
			const uint64_t epoch = epoch_of(now) + 1;
			if (lane.state.compare_exchange_strong(now, with(epoch, now, false))) {
				start_standby(lane);
				read(lane, epoch);
				return;
			}
		}
		quiet = now == last ? quiet + 1 : 0;
		last = now;
		if (quiet < quiet_ticks_before_sleep)
			continue;
		std::unique_lock lock(mutex);
		lane.standby_sleeping.store(true);
		// A call that started since the last look wakes nobody: look again.
		if (lane.state.load() != last) {
			lane.standby_sleeping.store(false);
			continue;
		}
		lane.standby_wake.wait(lock, [&] { return !lane.standby_sleeping.load() || stopping; });
		if (stopping)
			return;
		quiet = 0;
		last = lane.state.load();
	}
}

void LinkServer::Link::start_standby(Lane &lane) noexcept
{
	if (!server.spawn([self = shared_from_this(), &lane] { self->stand_by(lane); }))
		drpc::log::warn(no_standby, log_component,
		                "no thread for a standby reader: a long call holds up the next ones");
}

bool LinkServer::Link::start() noexcept
{
	if (!server.spawn([self = shared_from_this()] { self->read(self->socket_lane, 0); }))
		return false;
	start_standby(socket_lane);
	if (call_ring) {
		// Without its reader the host's calls would wait in the ring for good.
		if (!server.spawn([self = shared_from_this()] { self->read(self->ring_lane, 0); }))
			return false;
		start_standby(ring_lane);
	}
	return true;
}

void LinkServer::Link::abort() noexcept
{
	stop();
	::shutdown(fd, SHUT_RDWR);
}

void LinkServer::Link::stop() noexcept
{
	{
		const std::lock_guard lock(mutex);
		stopping = true;
	}
	socket_lane.standby_wake.notify_all();
	ring_lane.standby_wake.notify_all();
	if (call_ring)
		call_ring->stop();
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

bool LinkServer::Link::push(std::span<const uint8_t> message)
{
	if (!answer_ring || message.size() > MessageRing::max_message_bytes)
		return false;
	const std::lock_guard turn(answer_ring_turn);
	switch (answer_ring->push(message)) {
	case MessageRing::Result::done:
		return true;
	case MessageRing::Result::broken:
		throw drpc::Error("the answer ring is inconsistent: " + std::string(answer_ring->fault()));
	default:
		return false; // full: the socket waits for room instead
	}
}

void LinkServer::Link::send(std::span<const uint8_t> message)
{
	if (push(message))
		return;
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

LinkServer::LinkServer(int listen_fd, std::vector<std::shared_ptr<drpc::Module>> modules, size_t max_message_bytes,
                       std::shared_ptr<const SharedRegion> rings, pid_t host, std::chrono::microseconds ring_spin)
	: listen_fd_(listen_fd),
	  modules_(std::move(modules)),
	  max_message_bytes_(max_message_bytes),
	  rings_(std::move(rings)),
	  host_(host),
	  ring_spin_(ring_spin)
{
}

LinkServer::~LinkServer()
{
	shutdown(std::chrono::milliseconds::max());
	::close(listen_fd_); // the acceptor is joined: nobody uses it now
}

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
			// The rings serve the host's first connection: it connects once.
			const bool gets_rings = rings_ && !rings_taken_ && credentials.pid == host_;
			link = std::make_shared<Link>(
				*this, fd, drpc::PeerCredentials{credentials.pid, credentials.uid, credentials.gid},
				gets_rings ? rings_.get() : nullptr);
			rings_taken_ = rings_taken_ || gets_rings;
			const std::lock_guard lock(mutex_);
			if (stopping_)
				return; // the link closes its fd
			links_.push_back(link);
		} catch (...) {
			if (!link)
				::close(fd);
			continue;
		}
		if (!link->start()) {
			// Closed rather than left half served: the host sees its link
			// end and restarts this worker.
			drpc::log::warn(log_component, "no thread to serve a connection from the host: closing it");
			link->abort();
		}
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
