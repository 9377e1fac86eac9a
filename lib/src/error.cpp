// SPDX-License-Identifier: Apache-2.0
// Out-of-line parts of the library's exceptions.
#include <drpc/error.hpp>

#include <cstring>

namespace drpc {

SystemError::SystemError(const std::string &context, int code)
	: Error(context + ": " + std::strerror(code)), code_(code)
{
}

SystemError::SystemError(const std::string &context, const SystemError &cause)
	: Error(context + ": " + cause.what()), code_(cause.code())
{
}

} // namespace drpc
