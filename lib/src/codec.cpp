// SPDX-License-Identifier: Apache-2.0
// Hand-written protobuf wire encoding of drpc.Call and drpc.Response: the
// server's hot path decodes a call and encodes a response without allocating.
#include <drpc/codec.hpp>

#include <cstring>

namespace drpc::codec {
namespace {

enum WireType : uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, start_group = 3, end_group = 4, fixed32 = 5 };

/// A bounds-checked reader over protobuf bytes.
class Reader {
public:
	explicit Reader(std::string_view bytes) noexcept
		: p_(reinterpret_cast<const uint8_t *>(bytes.data())), end_(p_ + bytes.size())
	{
	}

	[[nodiscard]] bool done() const noexcept { return p_ == end_; }

	bool read_varint(uint64_t &value) noexcept
	{
		value = 0;
		for (unsigned shift = 0; shift < 64; shift += 7) {
			if (p_ == end_)
				return false;
			const uint8_t byte = *p_++;
			// The 10th byte may only carry the top bit of a 64-bit value;
			// protobuf accepts and drops further bits, and so do we.
			value |= static_cast<uint64_t>(byte & 0x7f) << shift;
			if ((byte & 0x80) == 0)
				return true;
		}
		return false; // more than 10 bytes
	}

	bool read_tag(uint32_t &field, uint32_t &wire_type) noexcept
	{
		// Protobuf reads a tag as at most 5 bytes holding 32 bits.
		uint64_t tag = 0;
		for (unsigned shift = 0;; shift += 7) {
			if (p_ == end_ || shift > 28)
				return false;
			const uint8_t byte = *p_++;
			if (shift == 28 && byte >= 16)
				return false;
			tag |= static_cast<uint64_t>(byte & 0x7f) << shift;
			if ((byte & 0x80) == 0)
				break;
		}
		field = static_cast<uint32_t>(tag >> 3);
		wire_type = static_cast<uint32_t>(tag & 7);
		return field != 0;
	}

	bool read_bytes(std::string_view &out) noexcept
	{
		uint64_t size = 0;
		if (!read_varint(size) || size > static_cast<uint64_t>(end_ - p_))
			return false;
		out = std::string_view(reinterpret_cast<const char *>(p_), size);
		p_ += size;
		return true;
	}

	bool skip(size_t n) noexcept
	{
		if (n > static_cast<size_t>(end_ - p_))
			return false;
		p_ += n;
		return true;
	}

	/// Skips one field's value, groups included (nested to a sane depth).
	bool skip_field(uint32_t field, uint32_t wire_type, int depth = 0) noexcept
	{
		uint64_t ignored = 0;
		std::string_view bytes;
		switch (wire_type) {
		case varint:
			return read_varint(ignored);
		case fixed64:
			return skip(8);
		case length_delimited:
			return read_bytes(bytes);
		case fixed32:
			return skip(4);
		case start_group: {
			if (depth >= 100)
				return false;
			uint32_t inner_field = 0, inner_type = 0;
			while (read_tag(inner_field, inner_type)) {
				if (inner_type == end_group)
					return inner_field == field;
				if (!skip_field(inner_field, inner_type, depth + 1))
					return false;
			}
			return false;
		}
		default: // end_group without start, or the invalid types 6 and 7
			return false;
		}
	}

private:
	const uint8_t *p_;
	const uint8_t *end_;
};

constexpr size_t varint_size(uint64_t value) noexcept
{
	size_t size = 1;
	while (value >= 0x80) {
		value >>= 7;
		++size;
	}
	return size;
}

uint8_t *put_varint(uint8_t *out, uint64_t value) noexcept
{
	while (value >= 0x80) {
		*out++ = static_cast<uint8_t>(value | 0x80);
		value >>= 7;
	}
	*out++ = static_cast<uint8_t>(value);
	return out;
}

constexpr uint8_t tag(uint32_t field, WireType type) noexcept { return static_cast<uint8_t>(field << 3 | type); }

// Protobuf encodes negative int32 and enum values sign-extended to 64 bits.
constexpr uint64_t as_varint(int64_t value) noexcept { return static_cast<uint64_t>(value); }

size_t varint_field_size(int64_t value) noexcept { return value == 0 ? 0 : 1 + varint_size(as_varint(value)); }
size_t bytes_field_size(std::string_view bytes) noexcept
{
	return bytes.empty() ? 0 : 1 + varint_size(bytes.size()) + bytes.size();
}

uint8_t *put_varint_field(uint8_t *out, uint32_t field, int64_t value) noexcept
{
	if (value == 0)
		return out; // proto3: a default value is not encoded
	*out++ = tag(field, varint);
	return put_varint(out, as_varint(value));
}

uint8_t *put_bytes_field(uint8_t *out, uint32_t field, std::string_view bytes) noexcept
{
	if (bytes.empty())
		return out;
	*out++ = tag(field, length_delimited);
	out = put_varint(out, bytes.size());
	std::memcpy(out, bytes.data(), bytes.size());
	return out + bytes.size();
}

} // namespace

std::optional<CallView> decode_call(std::string_view bytes) noexcept
{
	Reader in(bytes);
	CallView call;
	while (!in.done()) {
		uint32_t field = 0, type = 0;
		if (!in.read_tag(field, type))
			return std::nullopt;
		uint64_t value = 0;
		if (type == varint && field >= 1 && field <= 3) {
			if (!in.read_varint(value))
				return std::nullopt;
			// int32 fields keep the low 32 bits, as protobuf does.
			if (field == 1)
				call.module = static_cast<int32_t>(static_cast<uint32_t>(value));
			else if (field == 2)
				call.method = static_cast<int32_t>(static_cast<uint32_t>(value));
			else
				call.sequence = static_cast<int64_t>(value);
		} else if (type == length_delimited && field == 4) {
			if (!in.read_bytes(call.body))
				return std::nullopt;
		} else if (!in.skip_field(field, type)) {
			return std::nullopt;
		}
	}
	return call;
}

std::optional<ResponseView> decode_response(std::string_view bytes) noexcept
{
	Reader in(bytes);
	ResponseView response;
	while (!in.done()) {
		uint32_t field = 0, type = 0;
		if (!in.read_tag(field, type))
			return std::nullopt;
		uint64_t value = 0;
		if (type == varint && (field == 1 || field == 2)) {
			if (!in.read_varint(value))
				return std::nullopt;
			if (field == 1)
				response.sequence = static_cast<int64_t>(value);
			else
				response.status =
					static_cast<Status>(static_cast<int32_t>(static_cast<uint32_t>(value)));
		} else if (type == length_delimited && field == 3) {
			if (!in.read_bytes(response.body))
				return std::nullopt;
		} else if (!in.skip_field(field, type)) {
			return std::nullopt;
		}
	}
	return response;
}

size_t encoded_size(const CallView &call) noexcept
{
	return varint_field_size(call.module) + varint_field_size(call.method) + varint_field_size(call.sequence) +
	       bytes_field_size(call.body);
}

size_t encoded_size(const ResponseView &response) noexcept
{
	return varint_field_size(response.sequence) + varint_field_size(static_cast<int32_t>(response.status)) +
	       bytes_field_size(response.body);
}

uint8_t *encode_to(const CallView &call, uint8_t *out) noexcept
{
	out = put_varint_field(out, 1, call.module);
	out = put_varint_field(out, 2, call.method);
	out = put_varint_field(out, 3, call.sequence);
	return put_bytes_field(out, 4, call.body);
}

uint8_t *encode_to(const ResponseView &response, uint8_t *out) noexcept
{
	out = put_varint_field(out, 1, response.sequence);
	out = put_varint_field(out, 2, static_cast<int32_t>(response.status));
	return put_bytes_field(out, 3, response.body);
}

uint8_t *encode_call_head(const CallView &call, uint8_t *out) noexcept
{
	return encode_call_head(call, call.body.size(), out);
}

uint8_t *encode_call_head(const CallView &call, size_t body_size, uint8_t *out) noexcept
{
	out = put_varint_field(out, 1, call.module);
	out = put_varint_field(out, 2, call.method);
	out = put_varint_field(out, 3, call.sequence);
	if (body_size == 0)
		return out;
	*out++ = tag(4, length_delimited);
	return put_varint(out, body_size);
}

std::string encode(const Call &call)
{
	const CallView view{call.module(), call.method(), call.sequence(), call.body()};
	std::string out(encoded_size(view), '\0');
	encode_to(view, reinterpret_cast<uint8_t *>(out.data()));
	return out;
}

std::string encode(const Response &response)
{
	const ResponseView view{response.sequence(), response.status(), response.body()};
	std::string out(encoded_size(view), '\0');
	encode_to(view, reinterpret_cast<uint8_t *>(out.data()));
	return out;
}

std::optional<Call> to_call(std::string_view bytes)
{
	const auto view = decode_call(bytes);
	if (!view)
		return std::nullopt;
	Call call;
	call.set_module(view->module);
	call.set_method(view->method);
	call.set_sequence(view->sequence);
	call.set_body(std::string(view->body));
	return call;
}

std::optional<Response> to_response(std::string_view bytes)
{
	const auto view = decode_response(bytes);
	if (!view)
		return std::nullopt;
	Response response;
	response.set_sequence(view->sequence);
	response.set_status(view->status);
	response.set_body(std::string(view->body));
	return response;
}

size_t encode_response_before(uint8_t *body, int64_t sequence, Status status, size_t body_size) noexcept
{
	uint8_t scratch[max_response_overhead];
	uint8_t *out = put_varint_field(scratch, 1, sequence);
	out = put_varint_field(out, 2, static_cast<int32_t>(status));
	if (body_size != 0) {
		*out++ = tag(3, length_delimited);
		out = put_varint(out, body_size);
	}
	const auto size = static_cast<size_t>(out - scratch);
	std::memcpy(body - size, scratch, size);
	return size;
}

} // namespace drpc::codec
