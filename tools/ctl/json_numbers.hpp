// SPDX-License-Identifier: Apache-2.0
/// @file json_numbers.hpp
/// Prints 64-bit integer fields as JSON numbers. Protobuf's JSON mapping
/// writes them as strings ("sessions_open":"1") for JavaScript's sake;
/// drpc-ctl's readers are jq and scripts, which want numbers.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>

namespace drpc::ctl {

/// `json`, protobuf's JSON of a message of `type` printed with the .proto
/// field names, with every int64, uint64, sint64, fixed64 and sfixed64 value
/// (also in repeated fields, map values and nested messages) as a number.
/// Field order is kept. Returns `json` as it is if it does not parse.
[[nodiscard]] std::string int64_fields_as_numbers(const google::protobuf::Descriptor &type, const std::string &json);

} // namespace drpc::ctl
