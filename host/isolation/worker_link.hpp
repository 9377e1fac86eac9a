// SPDX-License-Identifier: Apache-2.0
/// @file worker_link.hpp
/// The host's one connection to a worker process, shared by every call to
/// it, and the slots of the region it shares with the worker.
///
/// Why one connection and not one per call: at 8 connections on 2 CPUs a
/// relayed call is bound by wake-ups. With a connection per call, every
/// call sleeps and wakes a thread on each of its four hops. Here calls go
/// out tagged (the Call's sequence is the link's own), several at once;
/// the worker reads them on one thread (link_server.hpp) and this link's
/// one reader thread takes the answers and writes each to its caller's
/// client itself (drpc::DeferredAnswer), without waking the caller's
/// session thread. Under load both readers take what queued while they
/// were busy without sleeping in between (`drpc-bench --isolation`'s
/// multiplexed relay measures the shape).
///
/// Messages that fit cross in the region's two rings (message_ring.hpp)
/// instead of the socket: a call is then pushed by its session thread and
/// its answer popped by the link's second reader, without a system call
/// while both sides are busy. The rest (large messages, a full ring) go
/// through the socket, whose reader also keeps the deadlines.
#pragma once

#include "message_ring.hpp"
#include "send_turn.hpp"
#include "shared_region.hpp"

#include <drpc/deferred_answer.hpp>
#include <drpc/module.hpp>
#include <drpc/unique_fd.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <unordered_map>
#include <vector>

namespace drpc::host::isolation {

class WorkerLink {
public:
	/// For the worker at `socket`, whose listener (SO_PEERCRED) must be
	/// `worker_uid`; `pidfd` (taken) kills it when a call passes
	/// `call_timeout` (zero: none). `label` names the module in logs.
	/// `ring_spin` bounds how long the answer ring's reader spins before it
	/// sleeps (spin_budget.hpp; zero: never).
	WorkerLink(std::filesystem::path socket, uid_t worker_uid, drpc::UniqueFd pidfd, SharedRegion region,
	           std::chrono::milliseconds call_timeout, std::string label, std::chrono::microseconds ring_spin);
	/// close(), then waits for the reader threads.
	~WorkerLink();
	WorkerLink(const WorkerLink &) = delete;
	WorkerLink &operator=(const WorkerLink &) = delete;

	/// Connects and starts the readers. Throws drpc::Error naming the socket.
	void open();
	/// No more calls; every call out is answered FAILURE (the worker died,
	/// or is stopping). Never signals the worker. Idempotent.
	void close() noexcept;

	/// Forwards a call to the plugin (its caller and `body` behind a
	/// RelayHeader, a large body in a slot) and answers it through `answer`
	/// when the worker does: FAILURE when the link is closed, when the
	/// worker dies first, and when it runs past the call timeout (the
	/// worker is then killed). `body` is used only until this returns.
	void start_call(const CallContext &context, std::span<const uint8_t> body, DeferredAnswer answer);

	/// The same, waiting for the answer, for callers that have no session:
	/// the answer's bytes are copied into `out`. `timeout` zero: the link's.
	drpc::Status call(const CallContext &context, std::span<const uint8_t> body, drpc::ResponseBody &out);

	/// A call to the worker's own control module (worker_control.hpp): its
	/// status and body. Throws drpc::Error when the link is closed.
	drpc::Status control(int32_t method, std::span<const uint8_t> body, std::string &result);

	/// Frees the pages of the slots no call holds (the host's quiet moments).
	void release_free_slots() noexcept;

	/// Why this link killed its worker ("" when it did not): for the log
	/// line of its death.
	[[nodiscard]] std::string kill_reason() const;

private:
	/// Someone waiting in call() or control().
	struct Waiter {
		std::mutex mutex;
		std::condition_variable done_changed;
		bool done = false;
		drpc::Status status = drpc::Status::FAILURE;
		std::string body;
	};
	/// A call out: answered through `answer`, or to `waiter`.
	struct Pending {
		DeferredAnswer answer;
		Waiter *waiter = nullptr;
		std::optional<uint32_t> slot;
		/// A call to the plugin, whose answer says where its bytes are
		/// (relay_header.hpp); a control call's answer is its body.
		bool to_plugin = true;
	};

	/// Registers and sends one call; the answer goes to `pending`. A call
	/// to the plugin carries its caller in a RelayHeader and may use a slot;
	/// a control call is its body alone.
	void send_call(int32_t module, int32_t method, const CallContext &context, std::span<const uint8_t> body,
	               Pending pending, bool to_plugin);
	/// Sends an encoded call's head and tail as one message, several
	/// senders at once (a message of one record needs no turn of its own).
	void send_message(std::span<const uint8_t> head, std::span<const uint8_t> tail);
	/// Pushes an encoded call into the call ring; false when it must go
	/// through the socket (too large, or the ring is full). Throws
	/// drpc::Error when the worker broke the ring.
	bool push_message(std::span<const uint8_t> head, std::span<const uint8_t> tail);
	[[nodiscard]] std::optional<Pending> take(int64_t tag) noexcept;
	/// Answers `pending` with `status` and, with SUCCESS, `body`.
	void finish(Pending &pending, drpc::Status status, std::span<const uint8_t> body) noexcept;
	void read_loop() noexcept;
	/// The answer ring's reader.
	void read_ring_loop() noexcept;
	void handle_answer(std::span<const uint8_t> message) noexcept;
	/// Calls past their deadline: FAILURE, and the worker killed. The
	/// milliseconds until the reader looks again (-1: no call timeout).
	int expire_calls() noexcept;
	void kill_worker(std::string reason) noexcept;
	/// close() was called, or the link broke.
	[[nodiscard]] bool is_closed() const noexcept;
	/// Every call out answered FAILURE; no call taken from now on.
	void fail_all() noexcept;
	void wait(Waiter &waiter) noexcept;

	const std::filesystem::path socket_;
	const uid_t worker_uid_;
	const drpc::UniqueFd pidfd_;
	const SharedRegion region_;
	const std::chrono::milliseconds call_timeout_;
	const std::string label_;
	drpc::UniqueFd fd_;
	std::thread reader_;
	SendTurn send_turn_;
	std::mutex call_ring_turn_;
	MessageRing call_ring_;   // this side pushes; guarded by call_ring_turn_
	MessageRing answer_ring_; // this side pops, on ring_reader_
	std::thread ring_reader_;

	mutable std::mutex mutex_;
	bool closed_ = false;                                                             // guarded by mutex_
	int64_t next_tag_ = 1;                                                            // guarded by mutex_
	std::unordered_map<int64_t, Pending> pending_;                                    // guarded by mutex_
	std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> deadlines_; // guarded by mutex_; in order
	std::vector<uint32_t> free_slots_;                                                // guarded by mutex_
	std::string kill_reason_;                                                         // guarded by mutex_
};

} // namespace drpc::host::isolation
