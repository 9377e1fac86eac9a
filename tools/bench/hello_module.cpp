// SPDX-License-Identifier: Apache-2.0
// The bench's hello handlers: one with generated messages, as a plugin author
// would write it, and one that moves the name only once.
#include "hello_module.hpp"

#include "hello.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstring>
#include <string_view>

namespace drpc::bench {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

constexpr std::string_view greeting_prefix = "Hello ";

Status greet_with_messages(std::span<const uint8_t> body, ResponseBody &out)
{
	hello::Hello request;
	if (!request.ParseFromArray(body.data(), static_cast<int>(body.size())))
		return Status::FAILED_UNMARSHAL_PAYLOAD;
	hello::HelloResponse response;
	response.set_greeting(std::string(greeting_prefix) + request.name());
	const size_t size = response.ByteSizeLong();
	const std::span<uint8_t> buffer = out.reserve(size);
	if (buffer.size() != size)
		return Status::FAILED_MARSHAL;
	response.SerializeWithCachedSizesToArray(buffer.data());
	return Status::SUCCESS;
}

/// The same answer without a std::string in between. Unlike the generated
/// parser it does not check that the name is valid UTF-8.
Status greet_in_place(std::span<const uint8_t> body, ResponseBody &out)
{
	CodedInputStream input(body.data(), static_cast<int>(body.size()));
	const uint8_t *name = nullptr;
	uint32_t name_size = 0;
	constexpr uint32_t name_tag =
		WireFormatLite::MakeTag(hello::Hello::kNameFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
	while (const uint32_t tag = input.ReadTag()) {
		if (tag != name_tag) {
			if (!WireFormatLite::SkipField(&input, tag))
				return Status::FAILED_UNMARSHAL_PAYLOAD;
			continue;
		}
		// As in protobuf, the last occurrence of a field wins.
		if (!input.ReadVarint32(&name_size))
			return Status::FAILED_UNMARSHAL_PAYLOAD;
		const void *data = nullptr;
		int available = 0;
		if (name_size > 0 &&
		    (!input.GetDirectBufferPointer(&data, &available) || static_cast<uint32_t>(available) < name_size))
			return Status::FAILED_UNMARSHAL_PAYLOAD;
		name = static_cast<const uint8_t *>(data);
		if (!input.Skip(static_cast<int>(name_size)))
			return Status::FAILED_UNMARSHAL_PAYLOAD;
	}
	if (!input.ConsumedEntireMessage())
		return Status::FAILED_UNMARSHAL_PAYLOAD;

	const auto greeting_size = static_cast<uint32_t>(greeting_prefix.size() + name_size);
	const size_t size = 1 + CodedOutputStream::VarintSize32(greeting_size) + greeting_size;
	const std::span<uint8_t> buffer = out.reserve(size);
	if (buffer.size() != size)
		return Status::FAILED_MARSHAL;
	uint8_t *at = WireFormatLite::WriteTagToArray(hello::HelloResponse::kGreetingFieldNumber,
	                                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED, buffer.data());
	at = CodedOutputStream::WriteVarint32ToArray(greeting_size, at);
	std::memcpy(at, greeting_prefix.data(), greeting_prefix.size());
	if (name_size > 0)
		std::memcpy(at + greeting_prefix.size(), name, name_size);
	return Status::SUCCESS;
}

} // namespace

Status HelloModule::handle_call(const CallContext &context, std::span<const uint8_t> body, ResponseBody &out)
{
	switch (context.method) {
	case hello_greeting_method:
		return greet_with_messages(body, out);
	case hello_in_place_method:
		return greet_in_place(body, out);
	default:
		return Status::UNKNOWN_METHOD;
	}
}

} // namespace drpc::bench
