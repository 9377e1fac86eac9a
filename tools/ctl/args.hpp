// SPDX-License-Identifier: Apache-2.0
/// @file args.hpp
/// drpc-ctl's command-line reading: the options every command shares, a
/// cursor over the arguments, and number parsing with usage errors.
#pragma once

#include <drpc/client.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace drpc::ctl {

/// The host's default socket, used when neither --socket nor DRPC_SOCKET is
/// given: drpc-host.sock in the run directory of a host of the same user.
inline constexpr std::string_view host_default_socket =
	"/run/drpc/drpc-host.sock for root, $XDG_RUNTIME_DIR/drpc/drpc-host.sock for others";

/// $DRPC_SOCKET when set and not empty, else the host's default socket
/// for this user (see host_default_socket).
[[nodiscard]] std::filesystem::path default_socket_path();

/// Root talks only to a root server by default: a socket path another user
/// bound first must not receive root's calls. Others accept any server.
[[nodiscard]] std::optional<uid_t> default_server_uid() noexcept;

/// Options every command shares.
struct GlobalOptions {
	std::filesystem::path socket = default_socket_path();
	/// --server-uid UID / --any-server-uid.
	std::optional<uid_t> server_uid = default_server_uid();
};

/// The client options `global` asks for.
[[nodiscard]] ClientOptions client_options(const GlobalOptions &global) noexcept;

/// One option as given: "--name", "--name VALUE" or "--name=VALUE".
struct Option {
	std::string_view name;                        ///< with its dashes: "--module", "-h"
	std::optional<std::string_view> inline_value; ///< the text after '=', if any
};

/// Walks the arguments of one command line from left to right. Every method
/// that cannot do what it is asked throws UsageError naming the argument.
class ArgCursor {
public:
	explicit ArgCursor(std::vector<std::string_view> args) : args_(std::move(args)) {}

	[[nodiscard]] bool done() const noexcept { return next_ == args_.size(); }
	/// True when the next argument starts with '-': an option.
	[[nodiscard]] bool at_option() const noexcept;
	/// The next argument as it is: a command name or a positional value;
	/// `what` names it in the error when none is left.
	std::string_view take(std::string_view what);
	/// The next argument as an option.
	Option take_option();
	/// The value of `option`: its inline value, else the next argument
	/// (which may start with '-', as in "--module -1").
	std::string_view value(const Option &option);
	/// Refuses a value given to a flag ("--help=yes").
	void no_value(const Option &option) const;

private:
	std::vector<std::string_view> args_;
	size_t next_ = 0;
};

/// True for "--help" and "-h".
[[nodiscard]] bool is_help(const Option &option) noexcept;

/// A whole int32 in decimal or 0x-prefixed hex, optionally negative;
/// `what` names the option in the error.
[[nodiscard]] int32_t parse_int32(std::string_view text, std::string_view what);
/// A whole unsigned decimal number.
[[nodiscard]] uint64_t parse_uint64(std::string_view text, std::string_view what);

} // namespace drpc::ctl
