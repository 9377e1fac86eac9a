// SPDX-License-Identifier: Apache-2.0
/// @file admin_messages.hpp
/// The admin module's side of proto/admin.proto: the plugin manager's
/// listings as admin messages, and request/response bodies in and out of the
/// dRPC call.
#pragma once

#include "admin.pb.h"

#include <drpc/lifecycle/module_record.hpp>
#include <drpc/module.hpp>

#include <chrono>
#include <cstdint>
#include <span>

namespace drpc::host {

/// Milliseconds since the Unix epoch; 0 for a time that was never set.
[[nodiscard]] int64_t unix_ms(std::chrono::system_clock::time_point when) noexcept;

[[nodiscard]] admin::ModuleInfo to_message(const ModuleRecord &record);
/// A refused file (a record in state failed).
[[nodiscard]] admin::LoadFailure to_failure_message(const ModuleRecord &failed);
[[nodiscard]] admin::ModuleOpResponse to_message(const ModuleOperation &operation);
/// A module's self-description (DESCRIBE); described = false when it has none.
[[nodiscard]] admin::DescribedModule to_description_message(const ModuleRecord &record);

/// Decodes a request body; false when it is not a `message`.
[[nodiscard]] bool decode(std::span<const uint8_t> body, google::protobuf::MessageLite &message);

/// Encodes `message` as the response body: SUCCESS, or FAILED_MARSHAL when
/// it does not fit the server's message limit or cannot be serialized.
[[nodiscard]] drpc::Status encode(const google::protobuf::MessageLite &message, drpc::ResponseBody &out);

} // namespace drpc::host
