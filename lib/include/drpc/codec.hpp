// SPDX-License-Identifier: Apache-2.0
/// @file drpc/codec.hpp
/// Protobuf encoding of drpc.Call and drpc.Response for the hot path,
/// byte-identical to what protobuf (and so DAOS) produces, without
/// allocating: decoding yields views into the input, encoding writes into a
/// caller's buffer. The generated classes (drpc/message.hpp) are for callers;
/// these views are what the server and client use internally.
///
/// Decoding follows protobuf's proto3 rules: fields in any order, the last of
/// a repeated scalar wins, unknown fields (any valid wire type, groups
/// included) are skipped, a known field with another wire type is treated as
/// unknown; truncated varints, lengths past the end, field number 0 and wire
/// types 6 and 7 fail.
#pragma once

#include <drpc/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace drpc::codec {

/// A decoded Call whose body points into the decoded bytes.
struct CallView {
	int32_t module = 0;
	int32_t method = 0;
	int64_t sequence = 0;
	std::string_view body;
};

/// A decoded Response whose body points into the decoded bytes.
struct ResponseView {
	int64_t sequence = 0;
	Status status = Status::SUCCESS;
	std::string_view body;
};

[[nodiscard]] std::optional<CallView> decode_call(std::string_view bytes) noexcept;
[[nodiscard]] std::optional<ResponseView> decode_response(std::string_view bytes) noexcept;

[[nodiscard]] size_t encoded_size(const CallView &call) noexcept;
[[nodiscard]] size_t encoded_size(const ResponseView &response) noexcept;

/// Writes the encoding to `out` (encoded_size() bytes); returns its end.
uint8_t *encode_to(const CallView &call, uint8_t *out) noexcept;
uint8_t *encode_to(const ResponseView &response, uint8_t *out) noexcept;

/// Conversions between the views' encoding and the generated classes; they
/// give the same bytes as the classes' own SerializeAsString().
[[nodiscard]] std::string encode(const Call &call);
[[nodiscard]] std::string encode(const Response &response);
[[nodiscard]] std::optional<Call> to_call(std::string_view bytes);
[[nodiscard]] std::optional<Response> to_response(std::string_view bytes);

/// The most bytes a Call encodes to besides its body.
inline constexpr size_t max_call_overhead = 33;

/// Writes the fields of `call` and the tag and length of its body (not the
/// body itself) to `out` (at least max_call_overhead bytes); returns the
/// end. Followed by the body's bytes, this is encode_to(call).
uint8_t *encode_call_head(const CallView &call, uint8_t *out) noexcept;
/// The same for a body of `body_size` bytes, whatever `call.body` holds (a
/// relay sending its body in pieces).
uint8_t *encode_call_head(const CallView &call, size_t body_size, uint8_t *out) noexcept;

/// The most bytes a Response encodes to besides its body.
inline constexpr size_t max_response_overhead = 33;

/// Writes the fields of a Response that precede a body of `body_size` bytes
/// already placed at `body`, backwards into the bytes just before it, so the
/// whole Response is contiguous without copying the body. At most
/// max_response_overhead bytes are written; returns how many.
size_t encode_response_before(uint8_t *body, int64_t sequence, Status status, size_t body_size) noexcept;

} // namespace drpc::codec
