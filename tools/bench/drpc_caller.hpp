// SPDX-License-Identifier: Apache-2.0
/// @file drpc_caller.hpp
/// What the dRPC side of the bench sends, and the Caller that sends it over a
/// drpc::ClientConnection.
#pragma once

#include "load_generator.hpp"

#include <drpc/client.hpp>
#include <drpc/message.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace drpc::bench {

/// The call every connection repeats.
struct CallPlan {
	Call call;
	/// Size of the encoded Call, as sent late in a run (3-byte sequence).
	size_t encoded_bytes = 0;
	/// For a hello call, the greeting a correct server answers.
	std::optional<std::string> expected_greeting;
};

/// A call to `module`/`method` whose encoded Call is at most (and as close
/// as possible to) `payload_bytes`. With `hello`, the body is a hello.Hello
/// whose name fills the space; otherwise it is that many raw bytes.
/// Throws std::invalid_argument when even an empty body does not fit.
[[nodiscard]] CallPlan plan_call(int32_t module, int32_t method, size_t payload_bytes, bool hello);

/// Makes one call and checks that the answer is SUCCESS (and, for hello, the
/// right greeting); throws std::runtime_error saying what was wrong.
void probe(const std::filesystem::path &socket_path, const CallPlan &plan);

class DrpcCaller final : public Caller {
public:
	/// Connects; throws drpc::Error.
	DrpcCaller(const std::filesystem::path &socket_path, const Call &call);
	/// One call; throws drpc::Error, or std::runtime_error on a non-SUCCESS status.
	void call() override;

private:
	ClientConnection connection_;
	const Call &call_;
};

} // namespace drpc::bench
