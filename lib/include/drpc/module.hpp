// SPDX-License-Identifier: Apache-2.0
/// @file drpc/module.hpp
/// What a server routes calls to: a Module, identified by a unique ID.
#pragma once

#include <drpc/status.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace drpc {

class DeferredAnswer; // drpc/deferred_answer.hpp

/// The credentials of the process at the other end of a session
/// (SO_PEERCRED, read once when the session is accepted).
struct PeerCredentials {
	pid_t pid = 0;
	uid_t uid = 0;
	gid_t gid = 0;
};

/// Everything a handler knows about the call besides its body.
struct CallContext {
	int32_t module = 0;
	int32_t method = 0;
	int64_t sequence = 0;
	PeerCredentials peer;
};

/// Where a handler writes its response body. The server owns and reuses the
/// memory; a body is sent only with SUCCESS.
class ResponseBody {
public:
	virtual ~ResponseBody() = default;
	/// A buffer of exactly `size` bytes to fill, replacing any earlier one;
	/// an empty span when `size` is over the server's message limit.
	[[nodiscard]] virtual std::span<uint8_t> reserve(size_t size) noexcept = 0;
	/// Copies `bytes` as the whole body; false when over the limit.
	[[nodiscard]] bool assign(std::string_view bytes) noexcept;
};

/// A dRPC module (the C++ counterpart of DAOS's Go drpc.Module).
///
/// handle_call() is called concurrently from several sessions' threads. It
/// may throw: the server answers FAILURE and the session goes on.
///
/// A module that answers from another thread (one that forwards calls to
/// another process, or queues them) says so with answers_later(): the
/// server then calls start_call() instead, and the session's thread goes
/// back to its client while the call is out.
class Module {
public:
	Module() = default;
	Module(const Module &) = delete;
	Module &operator=(const Module &) = delete;
	virtual ~Module() = default;

	[[nodiscard]] virtual int32_t id() const noexcept = 0;
	/// For logs and listings.
	[[nodiscard]] virtual std::string name() const { return "module " + std::to_string(id()); }

	/// Handles method `context.method`. Returns the status to answer; on
	/// SUCCESS the body is what was written to `out`.
	virtual Status handle_call(const CallContext &context, std::span<const uint8_t> body, ResponseBody &out) = 0;

	/// True when calls go to start_call() instead of handle_call(). Read
	/// once per call; it must not change while the module is registered.
	[[nodiscard]] virtual bool answers_later() const noexcept { return false; }

	/// Starts call `context`, to be answered through `answer`: at once, or
	/// later from any thread after moving it out. `body` is valid only
	/// until this returns: keep a copy of what is needed later. An answer
	/// still in `answer` when this returns or throws is given FAILURE. The
	/// default answers with handle_call().
	virtual void start_call(const CallContext &context, std::span<const uint8_t> body, DeferredAnswer &answer);
};

} // namespace drpc
