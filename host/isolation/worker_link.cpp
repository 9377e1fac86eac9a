// SPDX-License-Identifier: Apache-2.0
// The host's shared connection to one worker (see worker_link.hpp).
#include "worker_link.hpp"

#include "relay_header.hpp"
#include "worker_control.hpp"

#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/log.hpp>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <mutex>
#include <poll.h>
#include <pthread.h>
#include <shared_mutex>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

/// The largest answer read from a worker: the host's own limit caps what
/// reaches a client; this only keeps the framing bounded.
constexpr size_t max_answer_bytes = (size_t{1} << 30) + 4096;

/// A message the worker does not take within this long is not sent: the
/// call fails and the worker is replaced. Only a stopped worker (SIGSTOP,
/// by anyone or by its plugin) or one that cannot start a reader lets its
/// socket fill up (its standby takes the link over from a long call within
/// milliseconds); without this, every session calling it would wait in
/// send() for good, each holding a host thread.
constexpr int stalled_send_timeout_ms = 10'000;

/// How often the reader of a link with a call timeout looks for calls past
/// it when no answer comes.
constexpr std::chrono::milliseconds idle_look{50};

drpc::log::RateLimit stray_answers{"answers from a worker to no call"};
drpc::log::RateLimit malformed_answers{"malformed answers from a worker"};

} // namespace

WorkerLink::WorkerLink(std::filesystem::path socket, uid_t worker_uid, drpc::UniqueFd pidfd, SharedRegion region,
                       std::chrono::milliseconds call_timeout, std::string label, std::chrono::microseconds ring_spin)
	: socket_(std::move(socket)),
	  worker_uid_(worker_uid),
	  pidfd_(std::move(pidfd)),
	  region_(std::move(region)),
	  call_timeout_(call_timeout),
	  label_(std::move(label)),
	  call_ring_(region_.call_ring()),
	  answer_ring_(region_.answer_ring(), ring_spin)
{
	// Slot 0 is taken first, so that a lone caller keeps touching the same pages.
	for (uint32_t slot = SharedRegion::slot_count; slot > 0; --slot)
		free_slots_.push_back(slot - 1);
}

WorkerLink::~WorkerLink()
{
	close();
	if (reader_.joinable())
		reader_.join();
	if (ring_reader_.joinable())
		ring_reader_.join();
}

void WorkerLink::open()
{
	const std::string where = label_ + ": worker socket " + socket_.string();
	drpc::UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (fd.get() < 0)
		throw drpc::SystemError(where + ": socket", errno);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	if (socket_.native().size() >= sizeof(address.sun_path))
		throw drpc::Error(where + ": path too long");
	std::memcpy(address.sun_path, socket_.c_str(), socket_.native().size() + 1);
	int result;
	do
		result = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address));
	while (result != 0 && errno == EINTR);
	if (result != 0)
		throw drpc::SystemError(where + ": connect", errno);
	ucred peer{};
	socklen_t length = sizeof(peer);
	if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0)
		throw drpc::SystemError(where + ": SO_PEERCRED", errno);
	// The host bound it; anyone else's listener there is not our worker.
	if (peer.uid != worker_uid_)
		throw drpc::Error(where + ": listened on by uid " + std::to_string(peer.uid) + ", not the worker's " +
		                  std::to_string(worker_uid_));
	fd_ = std::move(fd);
	reader_ = std::thread(&WorkerLink::read_loop, this);
	try {
		ring_reader_ = std::thread(&WorkerLink::read_ring_loop, this);
	} catch (...) {
		close();
		throw;
	}
}

void WorkerLink::close() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (closed_)
			return;
		closed_ = true;
	}
	// Wakes the readers: the socket's answers what is out (fail_all).
	answer_ring_.stop();
	if (fd_.get() >= 0)
		::shutdown(fd_.get(), SHUT_RDWR);
	else
		fail_all();
}

void WorkerLink::start_call(const CallContext &context, std::span<const uint8_t> body, DeferredAnswer answer)
{
	Pending pending;
	pending.answer = std::move(answer);
	send_call(context.module, context.method, context, body, std::move(pending), true);
}

drpc::Status WorkerLink::call(const CallContext &context, std::span<const uint8_t> body, drpc::ResponseBody &out)
{
	Waiter waiter;
	Pending pending;
	pending.waiter = &waiter;
	send_call(context.module, context.method, context, body, std::move(pending), true);
	wait(waiter);
	if (waiter.status == drpc::Status::SUCCESS && !out.assign(waiter.body))
		return drpc::Status::FAILURE; // over this host's message limit
	return waiter.status;
}

drpc::Status WorkerLink::control(int32_t method, std::span<const uint8_t> body, std::string &result)
{
	Waiter waiter;
	Pending pending;
	pending.waiter = &waiter;
	send_call(worker_control_id, method, CallContext{}, body, std::move(pending), false);
	wait(waiter);
	result = std::move(waiter.body);
	return waiter.status;
}

void WorkerLink::wait(Waiter &waiter) noexcept
{
	std::unique_lock lock(waiter.mutex);
	waiter.done_changed.wait(lock, [&] { return waiter.done; });
}

void WorkerLink::send_call(int32_t module, int32_t method, const CallContext &context, std::span<const uint8_t> body,
                           Pending pending, bool to_plugin)
{
	int64_t tag;
	std::optional<uint32_t> slot;
	{
		const std::lock_guard lock(mutex_);
		if (closed_) {
			finish(pending, drpc::Status::FAILURE, {});
			return;
		}
		tag = next_tag_++;
		if (to_plugin && !free_slots_.empty()) {
			slot = free_slots_.back();
			free_slots_.pop_back();
		}
		pending.slot = slot;
		pending.to_plugin = to_plugin;
		// The deadline first: one left without its call is skipped.
		if (call_timeout_.count() > 0)
			deadlines_.emplace_back(std::chrono::steady_clock::now() + call_timeout_, tag);
		pending_.emplace(tag, std::move(pending));
	}
	// A large body crosses in the slot: one copy here instead of two
	// through the socket, and the plugin reads it in place.
	uint32_t body_in_slot = 0;
	std::span<const uint8_t> inline_body = body;
	if (slot && body.size() >= SharedRegion::min_body_bytes && body.size() <= SharedRegion::area_bytes) {
		std::memcpy(region_.call_area(*slot).data(), body.data(), body.size());
		body_in_slot = static_cast<uint32_t>(body.size());
		inline_body = {};
	}
	const auto relay = encode_relay_header(context, slot.value_or(no_slot), body_in_slot);
	const std::span<const uint8_t> header =
		to_plugin ? std::span<const uint8_t>(relay) : std::span<const uint8_t>();
	const drpc::codec::CallView view{
		.module = module,
		.method = method,
		.sequence = tag,
		.body = std::string_view(reinterpret_cast<const char *>(inline_body.data()), inline_body.size()),
	};
	uint8_t head[drpc::codec::max_call_overhead + sizeof(RelayHeader)];
	uint8_t *end = drpc::codec::encode_call_head(view, header.size() + inline_body.size(), head);
	end = std::copy(header.begin(), header.end(), end);
	try {
		if (!push_message(std::span<const uint8_t>(head, end), inline_body))
			send_message(std::span<const uint8_t>(head, end), inline_body);
	} catch (const std::exception &e) {
		// The worker is gone (its reader fails the rest) or the message is
		// refused: this call is answered here, unless the reader already did.
		drpc::log::warn(log_component, label_ + ": a call could not be sent to its worker: " + e.what());
		if (std::optional<Pending> unsent = take(tag))
			finish(*unsent, drpc::Status::FAILURE, {});
		// Part of a message may have gone: the link cannot be trusted
		// again. Its worker is replaced (unless the host closed the link).
		if (!is_closed()) {
			kill_worker(std::string("a call could not be sent to it: ") + e.what());
			close();
		}
	}
}

void WorkerLink::send_message(std::span<const uint8_t> head, std::span<const uint8_t> tail)
{
	// A one-record message cannot interleave with another; a longer one
	// goes alone, so that nothing lands between its records.
	if (head.size() + tail.size() + drpc::framing::header_size <= drpc::framing::max_record_size) {
		const std::shared_lock turn(send_turn_);
		drpc::framing::send_message(fd_.get(), head, tail, stalled_send_timeout_ms);
	} else {
		const std::unique_lock turn(send_turn_);
		drpc::framing::send_message(fd_.get(), head, tail, stalled_send_timeout_ms);
	}
}

bool WorkerLink::push_message(std::span<const uint8_t> head, std::span<const uint8_t> tail)
{
	if (head.size() + tail.size() > MessageRing::max_message_bytes)
		return false;
	const std::lock_guard turn(call_ring_turn_);
	switch (call_ring_.push(head, tail)) {
	case MessageRing::Result::done:
		return true;
	case MessageRing::Result::broken:
		throw drpc::Error("its call ring is inconsistent: " + std::string(call_ring_.fault()));
	default:
		return false; // full: the socket waits for room instead
	}
}

std::optional<WorkerLink::Pending> WorkerLink::take(int64_t tag) noexcept
{
	const std::lock_guard lock(mutex_);
	const auto found = pending_.find(tag);
	if (found == pending_.end())
		return std::nullopt;
	std::optional<Pending> taken(std::move(found->second));
	pending_.erase(found);
	return taken;
}

void WorkerLink::finish(Pending &pending, drpc::Status status, std::span<const uint8_t> body) noexcept
{
	if (pending.waiter) {
		Waiter &waiter = *pending.waiter;
		const std::lock_guard lock(waiter.mutex);
		waiter.status = status;
		try {
			waiter.body.assign(reinterpret_cast<const char *>(body.data()), body.size());
		} catch (...) {
			waiter.status = drpc::Status::FAILURE;
		}
		waiter.done = true;
		waiter.done_changed.notify_all();
		return;
	}
	if (status == drpc::Status::SUCCESS && !body.empty()) {
		const std::span<uint8_t> buffer = pending.answer.body().reserve(body.size());
		if (buffer.empty()) {
			pending.answer.answer(drpc::Status::FAILURE); // over this host's message limit
			return;
		}
		std::memcpy(buffer.data(), body.data(), body.size());
	} else if (status == drpc::Status::SUCCESS)
		(void)pending.answer.body().reserve(0);
	pending.answer.answer(status);
}

void WorkerLink::read_loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-link");
	drpc::framing::MessageReader reader(max_answer_bytes);
	for (;;) {
		const int timeout = expire_calls();
		const auto result = reader.read(fd_.get(), timeout);
		if (result == drpc::framing::MessageReader::Result::message) {
			handle_answer(reader.message());
			continue;
		}
		if (result == drpc::framing::MessageReader::Result::timeout)
			continue;
		if (result == drpc::framing::MessageReader::Result::error)
			drpc::log::warn(log_component, label_ + ": its worker's link broke: " +
			                                       drpc::log::untrusted(reader.error(), 512));
		break;
	}
	// Not closed by the host: the worker broke or dropped it, or is dying
	// (its socket closes before its exit is seen). One that is still alive
	// a moment later would serve nothing until reloaded: it is killed, so
	// that its supervisor restarts it.
	pollfd exited{pidfd_.get(), POLLIN, 0};
	if (!is_closed() && ::poll(&exited, 1, 200) == 0)
		kill_worker("its link to the host ended");
	fail_all();
	answer_ring_.stop();
}

void WorkerLink::read_ring_loop() noexcept
{
	::pthread_setname_np(::pthread_self(), "drpc-link-ring");
	while (!answer_ring_.stopped()) {
		switch (answer_ring_.pop()) {
		case MessageRing::Result::done:
			handle_answer(answer_ring_.message());
			break;
		case MessageRing::Result::broken: {
			const std::string reason =
				"its answer ring is inconsistent: " + std::string(answer_ring_.fault());
			drpc::log::warn(log_component, label_ + ": " + reason + ": killing its worker");
			kill_worker(reason);
			close();
			return;
		}
		default:
			answer_ring_.wait(std::chrono::milliseconds(-1));
			break;
		}
	}
}

void WorkerLink::handle_answer(std::span<const uint8_t> message) noexcept
{
	const auto response = drpc::codec::decode_response(
		std::string_view(reinterpret_cast<const char *>(message.data()), message.size()));
	if (!response) {
		drpc::log::warn(malformed_answers, log_component, label_ + ": its worker sent what is not a Response");
		kill_worker("it sent what is not a Response");
		return;
	}
	std::optional<Pending> pending = take(response->sequence);
	if (!pending && is_closed())
		return; // answered FAILURE when the link closed
	if (!pending) {
		// A call timed out (its worker is being killed), or a worker that lies.
		drpc::log::warn(stray_answers, log_component,
		                label_ + ": its worker answered call " + std::to_string(response->sequence) +
		                        ", which is not out");
		return;
	}
	const std::span<const uint8_t> answer_area =
		pending->slot ? region_.answer_area(*pending->slot) : std::span<const uint8_t>();
	drpc::Status status = response->status;
	std::span<const uint8_t> body;
	if (!pending->to_plugin)
		body = std::span(reinterpret_cast<const uint8_t *>(response->body.data()), response->body.size());
	else if (status == drpc::Status::SUCCESS) {
		const std::optional<std::span<const uint8_t>> answer = read_answer(
			std::span(reinterpret_cast<const uint8_t *>(response->body.data()), response->body.size()),
			answer_area);
		if (answer)
			body = *answer;
		else {
			drpc::log::warn(malformed_answers, log_component,
			                label_ + ": its worker's answer is malformed: call answered FAILURE");
			status = drpc::Status::FAILURE;
		}
	}
	// Copied out once before the slot is free again.
	finish(*pending, status, body);
	if (pending->slot) {
		const std::lock_guard lock(mutex_);
		free_slots_.push_back(*pending->slot);
	}
}

int WorkerLink::expire_calls() noexcept
{
	if (call_timeout_.count() <= 0)
		return -1;
	// A call sent while the reader waits does not wake it: with nothing
	// out it still looks this often, so a deadline is seen at most this late.
	int next = static_cast<int>(std::clamp<int64_t>(call_timeout_.count(), 1, idle_look.count()));
	std::vector<Pending> expired;
	{
		const std::lock_guard lock(mutex_);
		const auto now = std::chrono::steady_clock::now();
		while (!deadlines_.empty()) {
			const auto [deadline, tag] = deadlines_.front();
			const auto found = pending_.find(tag);
			if (found == pending_.end()) {
				deadlines_.pop_front(); // answered in time
				continue;
			}
			if (deadline > now) {
				next = static_cast<int>(std::clamp<int64_t>(
					std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count(), 1, next));
				break;
			}
			// Its slot is not freed: the worker may still write it.
			try {
				expired.push_back(std::move(found->second));
			} catch (...) {
				finish(found->second, drpc::Status::FAILURE, {});
			}
			pending_.erase(found);
			deadlines_.pop_front();
		}
	}
	if (!expired.empty()) {
		const std::string reason =
			"a call ran past call_timeout_ms (" + std::to_string(call_timeout_.count()) + " ms)";
		drpc::log::warn(log_component, label_ + ": " + reason + ": killing its worker");
		for (Pending &pending : expired)
			finish(pending, drpc::Status::FAILURE, {});
		kill_worker(reason);
	}
	return next;
}

void WorkerLink::kill_worker(std::string reason) noexcept
{
	const std::lock_guard lock(mutex_);
	if (kill_reason_.empty())
		kill_reason_ = std::move(reason);
	// Through the pidfd: never a recycled pid.
	(void)::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

bool WorkerLink::is_closed() const noexcept
{
	const std::lock_guard lock(mutex_);
	return closed_;
}

std::string WorkerLink::kill_reason() const
{
	const std::lock_guard lock(mutex_);
	return kill_reason_;
}

void WorkerLink::fail_all() noexcept
{
	std::unordered_map<int64_t, Pending> out;
	{
		const std::lock_guard lock(mutex_);
		closed_ = true;
		out.swap(pending_);
		deadlines_.clear();
	}
	// Their slots stay taken: the dead link is not used again.
	for (auto &[tag, pending] : out)
		finish(pending, drpc::Status::FAILURE, {});
}

void WorkerLink::release_free_slots() noexcept
{
	const std::lock_guard lock(mutex_);
	for (const uint32_t slot : free_slots_)
		region_.release(slot);
}

} // namespace drpc::host::isolation
