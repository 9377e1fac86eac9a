// SPDX-License-Identifier: Apache-2.0
// A queue of messages in memory shared with another process (see message_ring.hpp).
#include "message_ring.hpp"

#include <drpc/error.hpp>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

// The control page: each word on a line of its own, so that the producer's
// and the consumer's writes do not bounce one cache line between CPUs.
constexpr size_t line_bytes = 64;
constexpr size_t head_line = 0;     // the producer's position
constexpr size_t tail_line = 1;     // the consumer's position
constexpr size_t doorbell_line = 2; // 1 while the consumer sleeps or is about to

/// A message's record: its length and the length's complement (so that
/// stray bytes are caught as often as not before the length is trusted),
/// then the message, padded to a multiple of 8.
constexpr size_t record_header_bytes = 8;
constexpr size_t record_align = 8;

/// Empty wake-ups in a row after which the consumer waits a millisecond
/// between looks: only a peer poking the futex makes more than a few.
constexpr unsigned empty_wakes_before_backoff = 8;

static_assert((MessageRing::capacity & (MessageRing::capacity - 1)) == 0, "capacity must be a power of two");
static_assert(MessageRing::control_bytes >= (doorbell_line + 1) * line_bytes);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "positions must be lock-free across processes");

constexpr uint64_t record_bytes(size_t message_bytes) noexcept
{
	return record_header_bytes + ((message_bytes + record_align - 1) & ~(record_align - 1));
}

long futex(uint32_t *word, int op, uint32_t value, const timespec *timeout) noexcept
{
	// Not FUTEX_PRIVATE_FLAG: the word is shared with another process.
	return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

} // namespace

MessageRing::MessageRing(std::span<uint8_t> memory, std::chrono::microseconds longest_spin)
	: control_(memory.data()),
	  data_(memory.data() + control_bytes),
	  buffer_(std::make_unique<uint8_t[]>(max_message_bytes)),
	  spin_(longest_spin)
{
	if (memory.size() != bytes || reinterpret_cast<uintptr_t>(memory.data()) % line_bytes != 0)
		throw drpc::Error("message ring: " + std::to_string(memory.size()) + " bytes of memory, not " +
		                  std::to_string(bytes) + " aligned to a cache line");
}

uint64_t &MessageRing::word(size_t line) const noexcept
{
	return *reinterpret_cast<uint64_t *>(control_ + line * line_bytes);
}

uint32_t &MessageRing::doorbell_word() const noexcept
{
	return *reinterpret_cast<uint32_t *>(control_ + doorbell_line * line_bytes);
}

MessageRing::Result MessageRing::fail(std::string_view fault) noexcept
{
	fault_ = fault;
	return Result::broken;
}

void MessageRing::copy_in(uint64_t position, std::span<const uint8_t> bytes) noexcept
{
	if (bytes.empty())
		return; // memcpy may not take a null pointer, even for no bytes
	const size_t at = position & (capacity - 1);
	const size_t first = std::min(bytes.size(), capacity - at);
	std::memcpy(data_ + at, bytes.data(), first);
	std::memcpy(data_, bytes.data() + first, bytes.size() - first);
}

void MessageRing::copy_out(uint64_t position, std::span<uint8_t> bytes) const noexcept
{
	if (bytes.empty())
		return;
	const size_t at = position & (capacity - 1);
	const size_t first = std::min(bytes.size(), capacity - at);
	std::memcpy(bytes.data(), data_ + at, first);
	std::memcpy(bytes.data() + first, data_, bytes.size() - first);
}

MessageRing::Result MessageRing::push(std::span<const uint8_t> head, std::span<const uint8_t> tail) noexcept
{
	const size_t size = head.size() + tail.size();
	if (size > max_message_bytes)
		return Result::full;
	const uint64_t consumed = std::atomic_ref(word(tail_line)).load(std::memory_order_acquire);
	const uint64_t used = position_ - consumed;
	if (used > capacity || used % record_align != 0)
		return fail("the consumer's position is not behind the producer's");
	if (capacity - used < record_bytes(size))
		return Result::full;
	const uint32_t length = static_cast<uint32_t>(size);
	uint32_t header[2] = {length, ~length};
	copy_in(position_, std::span(reinterpret_cast<const uint8_t *>(header), sizeof(header)));
	copy_in(position_ + record_header_bytes, head);
	copy_in(position_ + record_header_bytes + head.size(), tail);
	position_ += record_bytes(size);
	// seq_cst on both sides (this store and the doorbell's load here; the
	// doorbell's store and this position's load in wait()): either the
	// consumer sees the message before it sleeps, or this sees it asleep.
	std::atomic_ref(word(head_line)).store(position_, std::memory_order_seq_cst);
	uint32_t &doorbell = doorbell_word();
	if (std::atomic_ref(doorbell).load(std::memory_order_seq_cst) != 0 &&
	    std::atomic_ref(doorbell).exchange(0, std::memory_order_seq_cst) != 0)
		(void)futex(&doorbell, FUTEX_WAKE, 1, nullptr);
	return Result::done;
}

MessageRing::Result MessageRing::pop() noexcept
{
	const uint64_t produced = std::atomic_ref(word(head_line)).load(std::memory_order_acquire);
	const uint64_t queued = produced - position_;
	if (queued == 0)
		return Result::empty;
	if (queued > capacity || queued % record_align != 0 || queued < record_header_bytes)
		return fail("the producer's position is not ahead of the consumer's by whole records");
	uint32_t header[2];
	copy_out(position_, std::span(reinterpret_cast<uint8_t *>(header), sizeof(header)));
	const uint32_t length = header[0];
	if (header[1] != static_cast<uint32_t>(~length))
		return fail("a record's length does not match its check");
	if (length > max_message_bytes || record_bytes(length) > queued)
		return fail("a record is longer than what was queued or than a ring message");
	// Copied out once: the producer may change the bytes left in the ring.
	copy_out(position_ + record_header_bytes, std::span(buffer_.get(), length));
	message_size_ = length;
	position_ += record_bytes(length);
	std::atomic_ref(word(tail_line)).store(position_, std::memory_order_release);
	empty_wakes_ = 0;
	return Result::done;
}

void MessageRing::wait(std::chrono::milliseconds timeout) noexcept
{
	uint32_t &doorbell = doorbell_word();
	const auto ready = [this] {
		return std::atomic_ref(word(head_line)).load(std::memory_order_seq_cst) != position_ ||
		       stopped_.load(std::memory_order_seq_cst);
	};
	if (ready())
		return;
	if (empty_wakes_ >= empty_wakes_before_backoff) {
		const timespec pause{0, 1'000'000};
		(void)::nanosleep(&pause, nullptr);
		if (ready())
			return;
	}
	// Looking again (spin_budget.hpp says when it pays), yielding to
	// anything runnable in between.
	using Clock = std::chrono::steady_clock;
	if (const SpinBudget::Duration spin = spin_.now(); spin > SpinBudget::Duration::zero()) {
		const Clock::time_point until = Clock::now() + spin;
		do {
			(void)::sched_yield();
			if (ready())
				return;
		} while (Clock::now() < until);
	}
	// Both before the last look (seq_cst, as push() and stop() are): a
	// message or a stop after it finds the doorbell rung, or us waiting.
	waiting_.store(true, std::memory_order_seq_cst);
	std::atomic_ref(doorbell).store(1, std::memory_order_seq_cst);
	bool timed_out = false;
	if (!ready()) {
		const Clock::time_point asleep = Clock::now();
		timespec until{};
		if (timeout.count() >= 0) {
			until.tv_sec = static_cast<time_t>(timeout.count() / 1000);
			until.tv_nsec = static_cast<long>(timeout.count() % 1000) * 1'000'000;
		}
		timed_out = futex(&doorbell, FUTEX_WAIT, 1, timeout.count() >= 0 ? &until : nullptr) != 0 &&
		            errno == ETIMEDOUT;
		const bool with_message = std::atomic_ref(word(head_line)).load(std::memory_order_acquire) != position_;
		spin_.slept(Clock::now() - asleep, with_message && !timed_out);
	}
	std::atomic_ref(doorbell).store(0, std::memory_order_relaxed);
	waiting_.store(false, std::memory_order_seq_cst);
	// Woken with nothing to read: rare, unless the peer pokes the futex.
	if (!timed_out && !ready())
		++empty_wakes_;
}

void MessageRing::stop() noexcept
{
	stopped_.store(true, std::memory_order_seq_cst);
	uint32_t &doorbell = doorbell_word();
	// Until the consumer is out: a peer that rings the doorbell between its
	// last look and its FUTEX_WAIT would otherwise keep it asleep past
	// this wake (the futex sleeps while the word is 1, whoever wrote it).
	for (;;) {
		std::atomic_ref(doorbell).store(0, std::memory_order_seq_cst);
		(void)futex(&doorbell, FUTEX_WAKE, INT_MAX, nullptr);
		if (!waiting_.load(std::memory_order_seq_cst))
			return;
		const timespec pause{0, 50'000};
		(void)::nanosleep(&pause, nullptr);
	}
}

} // namespace drpc::host::isolation
