// SPDX-License-Identifier: Apache-2.0
/// @file drpc/status.hpp
/// Names of dRPC statuses for messages and logs.
#pragma once

#include <drpc/message.hpp>

#include <string>

namespace drpc {

/// "SUCCESS", "UNKNOWN_MODULE", ... as in drpc.proto; "STATUS_<n>" for a
/// value with no name.
[[nodiscard]] std::string to_string(Status status);

} // namespace drpc
