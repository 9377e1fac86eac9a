// SPDX-License-Identifier: Apache-2.0
// 64-bit integers as JSON numbers in drpc-ctl's output.
#include "json_numbers.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>

namespace drpc::ctl {
namespace {

using Json = nlohmann::ordered_json;
using google::protobuf::FieldDescriptor;

void convert_message(const google::protobuf::Descriptor &type, Json &object);

/// One value of `field`'s type, converted in place.
void convert_value(const FieldDescriptor &field, Json &value)
{
	if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
		// Well-known types (Timestamp, Int64Value, ...) have JSON forms of their own.
		if (value.is_object() && field.message_type()->file()->package() != "google.protobuf")
			convert_message(*field.message_type(), value);
		return;
	}
	if (!value.is_string())
		return;
	const std::string &text = value.get_ref<const std::string &>();
	const char *end = text.data() + text.size();
	if (field.cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
		int64_t number = 0;
		if (const auto [ptr, error] = std::from_chars(text.data(), end, number);
		    error == std::errc() && ptr == end)
			value = number;
	} else if (field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
		uint64_t number = 0;
		if (const auto [ptr, error] = std::from_chars(text.data(), end, number);
		    error == std::errc() && ptr == end)
			value = number;
	}
}

void convert_message(const google::protobuf::Descriptor &type, Json &object)
{
	for (int i = 0; i < type.field_count(); ++i) {
		const FieldDescriptor &field = *type.field(i);
		const auto it = object.find(field.name());
		if (it == object.end())
			continue;
		if (field.is_map()) {
			if (it->is_object()) {
				for (Json &value : *it)
					convert_value(*field.message_type()->map_value(), value);
			}
		} else if (field.is_repeated()) {
			if (it->is_array()) {
				for (Json &value : *it)
					convert_value(field, value);
			}
		} else {
			convert_value(field, *it);
		}
	}
}

} // namespace

std::string int64_fields_as_numbers(const google::protobuf::Descriptor &type, const std::string &json)
{
	Json parsed = Json::parse(json, nullptr, false);
	if (parsed.is_discarded() || !parsed.is_object())
		return json;
	convert_message(type, parsed);
	return parsed.dump();
}

} // namespace drpc::ctl
