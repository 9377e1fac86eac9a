// SPDX-License-Identifier: Apache-2.0
/// @file call_command.hpp
/// `drpc-ctl call`: sends one dRPC call and prints the status and the body.
#pragma once

#include "args.hpp"
#include "descriptors.hpp"
#include "type_sources.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace drpc::ctl {

/// What `call` was asked to do.
struct CallOptions {
	bool help = false;
	/// "kv.Put": the module and method by name (or number), their types from
	/// the host's DESCRIBE; instead of --module and --method.
	std::optional<std::string> target;
	int32_t module = 0;
	int32_t method = 0;
	/// The request's message type; with `json` (or alone, for an empty message).
	std::string request_type;
	std::optional<std::string> json;
	std::optional<std::string> body_hex;
	std::optional<std::filesystem::path> body_file;
	/// The response's message type; empty prints the body as hex.
	std::string response_type;
	/// Zero waits forever.
	std::chrono::milliseconds timeout{30000};
	/// Message types beyond the compiled-in ones.
	TypeSourceOptions types;
};

/// Reads `call`'s options (the arguments after the word "call"): a target
/// MODULE.METHOD and its JSON, or --module and --method; --socket is
/// accepted here too and sets `global.socket`. Throws UsageError: an unknown
/// option, a bad number, neither a target nor --module and --method, two
/// body sources.
[[nodiscard]] CallOptions parse_call_options(ArgCursor &args, GlobalOptions &global);

/// Fills in what `options.target` names from the host's DESCRIBE: module
/// and method numbers, the request and response types unless given, and
/// the module's descriptor set as the first type source. Throws UsageError
/// for a module or method the host does not have (naming the methods it
/// has), drpc::Error when DESCRIBE cannot be called.
void resolve_target(const GlobalOptions &global, CallOptions &options);

/// The call's body as the options describe it. Throws UsageError naming the
/// type, the JSON error, the bad hex or the unreadable file.
[[nodiscard]] std::string request_body(const CallOptions &options, const Descriptors &descriptors);

/// Runs `call`: prints "status: NAME" and, on SUCCESS, the body (JSON with
/// --response, hex otherwise) to `out`. Returns exit_ok or exit_status;
/// throws UsageError, or drpc::Error when the call could not be made.
int run_call(ArgCursor &args, GlobalOptions &global, std::ostream &out);

void print_call_help(std::ostream &out);

} // namespace drpc::ctl
