// SPDX-License-Identifier: Apache-2.0
/// @file message_ring.hpp
/// A one-way queue of messages in memory shared by the host and a worker:
/// the host's calls to the worker cross in one, the worker's answers in
/// another (shared_region.hpp holds both).
///
/// Why: at 8 connections on 2 CPUs an isolated call was bound by the
/// link's socket. Each message through it is a send and a receive, so a
/// relayed call made twice the floor's system calls. Through a ring a
/// message is two copies in user space; a system call is made only to wake
/// a reader that went to sleep on an empty ring (a futex), which a busy
/// reader never does. Messages that do not fit (larger than
/// max_message_bytes, or a full ring) go through the socket as before: the
/// two paths carry the same encoded messages and calls are tagged, so their
/// order does not matter.
///
/// One producer and one consumer per ring, each in its own process; each
/// side serializes its own threads. Each side keeps its own position and
/// only publishes it: it never reads its position back from the shared
/// memory, and it checks everything the other side wrote (the other's
/// position, each message's length) before using it. A worker that
/// scribbles on a ring therefore gets `broken` at the host, never a read
/// or write out of bounds, and the host kills it. A consumer woken again
/// and again with nothing to read (a peer that pokes the futex) backs off
/// to a millisecond between looks instead of spinning.
#pragma once

#include "spin_budget.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace drpc::host::isolation {

class MessageRing {
public:
	/// Bytes of messages a ring holds (a power of two).
	static constexpr size_t capacity = size_t{256} << 10;
	/// The largest message a ring takes; larger ones go through the socket.
	static constexpr size_t max_message_bytes = size_t{32} << 10;
	/// The positions and the doorbell, each on a cache line of its own, in
	/// front of the messages (a page, so that the messages are aligned).
	static constexpr size_t control_bytes = 4096;
	/// The shared memory one ring takes.
	static constexpr size_t bytes = control_bytes + capacity;

	/// A side of the ring over `memory` (bytes long, 64-byte aligned; all
	/// zeros is an empty ring). The producer and the consumer each make
	/// their own MessageRing over the same memory. `longest_spin` bounds the
	/// consumer's spin in wait() (zero: it never spins).
	explicit MessageRing(std::span<uint8_t> memory,
	                     std::chrono::microseconds longest_spin = SpinBudget::default_largest);

	enum class Result {
		done,   // pushed, or a message popped
		full,   // push: no room (or the message is too large for a ring)
		empty,  // pop: nothing to read
		broken, // what the other side wrote is inconsistent: see fault()
	};

	/// Producer: queues the message `head` + `tail` and wakes the consumer
	/// if it sleeps. Never blocks.
	Result push(std::span<const uint8_t> head, std::span<const uint8_t> tail = {}) noexcept;

	/// Consumer: copies the next message out into this side's buffer;
	/// message() is it until the next pop().
	Result pop() noexcept;
	[[nodiscard]] std::span<const uint8_t> message() const noexcept { return {buffer_.get(), message_size_}; }

	/// Consumer: returns at once when a message is queued or after stop();
	/// else sleeps until the producer pushes one, stop() is called, or
	/// `timeout` passes (negative: none). It may return early: the caller
	/// pops and looks again. Before it sleeps it may look again for up to
	/// the longest spin, yielding the CPU in between (spin_budget.hpp): a
	/// timeout counts from when it goes to sleep.
	void wait(std::chrono::milliseconds timeout) noexcept;
	/// Wakes this process's consumer in wait() now and for good: wait()
	/// returns at once from then on. Returns once the consumer is out of
	/// wait(), so that it can be joined even when the peer rings the
	/// doorbell (shared memory) to keep it asleep. Any thread but the
	/// consumer's own while it waits; idempotent.
	void stop() noexcept;
	[[nodiscard]] bool stopped() const noexcept { return stopped_.load(); }

	/// What was inconsistent, after `broken`.
	[[nodiscard]] std::string_view fault() const noexcept { return fault_; }

private:
	[[nodiscard]] uint64_t &word(size_t line) const noexcept;
	/// The futex: 1 while the consumer sleeps or is about to.
	[[nodiscard]] uint32_t &doorbell_word() const noexcept;
	void copy_in(uint64_t position, std::span<const uint8_t> bytes) noexcept;
	void copy_out(uint64_t position, std::span<uint8_t> bytes) const noexcept;
	Result fail(std::string_view fault) noexcept;

	uint8_t *control_;
	uint8_t *data_;
	/// This side's own position: the producer's head or the consumer's tail.
	uint64_t position_ = 0;
	std::unique_ptr<uint8_t[]> buffer_;
	size_t message_size_ = 0;
	unsigned empty_wakes_ = 0;
	/// The consumer's: how long it looks again before it sleeps.
	SpinBudget spin_;
	std::string_view fault_;
	std::atomic<bool> stopped_{false};
	/// This process's consumer is in wait(), from before its last look:
	/// unlike the doorbell, no peer can write it.
	std::atomic<bool> waiting_{false};
};

} // namespace drpc::host::isolation
