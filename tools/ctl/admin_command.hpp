// SPDX-License-Identifier: Apache-2.0
/// @file admin_command.hpp
/// What drpc-ctl's admin commands (modules, load, unload, reload, stats)
/// share: their options, one call to the host's admin module with messages
/// built from the compiled-in descriptors, reading the answer's fields, and
/// the aligned text tables they print.
#pragma once

#include "args.hpp"

#include <drpc/message.hpp>

#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::ctl {

/// The host's admin module (drpc-host's host/reserved_ids.hpp; drpc-ctl
/// does not link the host).
inline constexpr int32_t admin_module_id = 0x7FFF0000;

/// An admin module method by its name in admin.proto's enum admin.Method
/// ("LOAD"); call_admin() takes the number from the compiled-in descriptor.
using AdminMethod = std::string_view;

/// What an admin command was asked to do.
struct AdminOptions {
	bool help = false;
	bool json = false;
	/// Zero waits forever. Generous: a reload waits for calls in flight.
	std::chrono::milliseconds timeout{30000};
	/// The command's positional arguments, as many as it takes.
	std::vector<std::string> arguments;
};

/// Reads the options of admin command `command` (--help, --json,
/// --timeout MS, --socket PATH) and exactly `argument_names.size()`
/// positional arguments, named in errors by `argument_names`. Throws
/// UsageError.
[[nodiscard]] AdminOptions parse_admin_options(ArgCursor &args, GlobalOptions &global, std::string_view command,
                                               const std::vector<std::string_view> &argument_names);

/// A message of admin.proto's type `type` ("admin.LoadRequest"), empty.
[[nodiscard]] std::unique_ptr<google::protobuf::Message> new_admin_message(std::string_view type);

/// Sets the string field `name` of a request (a compiled-in type: a wrong
/// name or type is drpc-ctl's own bug and throws std::logic_error).
void set_text(google::protobuf::Message &message, std::string_view name, const std::string &value);
/// Sets the int32 field `name` of a request.
void set_int32(google::protobuf::Message &message, std::string_view name, int32_t value);

/// The admin module's answer to one call.
struct AdminAnswer {
	drpc::Status status = drpc::Status::SUCCESS;
	std::string body;                                   ///< as received
	std::unique_ptr<google::protobuf::Message> message; ///< decoded, on SUCCESS
};

/// Sends `request` as method `method` of the admin module and decodes a
/// SUCCESS answer as `response_type`. Throws drpc::Error when the call
/// cannot be made, ProtocolError when the answer does not decode.
[[nodiscard]] AdminAnswer call_admin(const GlobalOptions &global, const AdminOptions &options, AdminMethod method,
                                     const google::protobuf::Message &request, std::string_view response_type);

/// Prints a non-SUCCESS answer's status to stderr ("drpc-ctl: modules: the
/// host answered UNKNOWN_MODULE ...") and returns exit_status.
int report_status(std::string_view command, drpc::Status status);

/// Prints the answer as protobuf's JSON mapping of `response_type`.
void print_json(std::string_view response_type, const AdminAnswer &answer, std::ostream &out);

/// Reads a decoded message's fields by their .proto names. The message types
/// are compiled in, so a name or type mismatch is drpc-ctl's own bug: it
/// throws std::logic_error.
class FieldReader {
public:
	explicit FieldReader(const google::protobuf::Message &message) noexcept : message_(message) {}

	/// An int32 or int64 field.
	[[nodiscard]] int64_t int64(std::string_view name) const;
	/// A uint32 or uint64 field.
	[[nodiscard]] uint64_t uint64(std::string_view name) const;
	[[nodiscard]] std::string text(std::string_view name) const;
	[[nodiscard]] bool flag(std::string_view name) const;
	/// A message field, or nothing when it is not set.
	[[nodiscard]] std::optional<FieldReader> child(std::string_view name) const;
	/// The elements of a repeated message field.
	[[nodiscard]] std::vector<FieldReader> elements(std::string_view name) const;

private:
	[[nodiscard]] const google::protobuf::FieldDescriptor &field(std::string_view name) const;

	const google::protobuf::Message &message_;
};

/// Rows of text printed with every column but the last padded to its widest
/// cell, two spaces apart.
class Table {
public:
	void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
	void print(std::ostream &out, std::string_view indent = {}) const;

private:
	std::vector<std::vector<std::string>> rows_;
};

/// A module ID as drpc-host writes it in its logs: decimal, or hex from
/// 0x10000000 up ("0x7FFF0000", the host's reserved range).
[[nodiscard]] std::string format_module_id(int64_t id);

/// Milliseconds since the Unix epoch as local time "2024-05-01 12:00:00";
/// "-" for 0.
[[nodiscard]] std::string format_local_time(int64_t unix_ms);

/// "3d 04:05:06", or "04:05:06" under a day.
[[nodiscard]] std::string format_duration(uint64_t ms);

/// "module 4242 (good 1.2.3) from /plugins/good.so, generation 2" from an
/// admin.ModuleInfo.
[[nodiscard]] std::string describe_module(const FieldReader &module);

/// The common end of load, unload and reload: sends `request` as `method`,
/// prints "<done> <module>" on ok (or the JSON with --json) and returns
/// exit_ok; prints the host's reason to stderr and returns exit_status when
/// it answered ok = false.
int run_module_operation(const GlobalOptions &global, const AdminOptions &options, std::string_view command,
                         AdminMethod method, const google::protobuf::Message &request, std::string_view done,
                         std::ostream &out);

/// A command that names one module by ID and asks the admin module to act
/// on it (unload, reload).
struct ModuleIdCommand {
	std::string_view name;         ///< "unload"
	AdminMethod method;            ///< "UNLOAD"
	std::string_view request_type; ///< "admin.UnloadRequest"
	std::string_view done;         ///< "unloaded"
	void (*print_help)(std::ostream &out);
};

/// Parses `<name> ID [--json] [--timeout MS]` and runs the operation as
/// run_module_operation() does.
int run_module_id_command(ArgCursor &args, GlobalOptions &global, std::ostream &out, const ModuleIdCommand &command);

} // namespace drpc::ctl
