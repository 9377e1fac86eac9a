// SPDX-License-Identifier: Apache-2.0
/// @file drpc/error.hpp
/// Exceptions thrown by the library. Every message names what failed and
/// where: the socket path, the step, the module ID, the errno text.
#pragma once

#include <stdexcept>
#include <string>

namespace drpc {

/// Base of everything the library throws.
class Error : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

/// A system call failed; code() is its errno.
class SystemError : public Error {
public:
	/// what() becomes "<context>: <strerror(code)>".
	SystemError(const std::string &context, int code);
	/// Rewords an error with more context in front, keeping its code.
	SystemError(const std::string &context, const SystemError &cause);
	[[nodiscard]] int code() const noexcept { return code_; }

private:
	int code_;
};

/// The peer broke the wire protocol (framing, or an undecodable message).
class ProtocolError : public Error {
public:
	using Error::Error;
};

/// A call's deadline passed before its response arrived.
class TimeoutError : public Error {
public:
	using Error::Error;
};

/// The server is not who the client requires (ClientOptions::require_server_uid).
class AccessError : public Error {
public:
	using Error::Error;
};

/// A module ID is already taken (or reserved).
class DuplicateModuleError : public Error {
public:
	using Error::Error;
};

} // namespace drpc
