// SPDX-License-Identifier: Apache-2.0
// Out-of-line parts of the library's exceptions.
#include <drpc/error.hpp>

#include <cstring>

namespace drpc {

SystemError::SystemError(const std::string &context, int code)
	: Error(context + ": " + std::strerror(code)), code_(code)
{
}

} // namespace drpc
