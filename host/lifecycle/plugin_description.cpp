// SPDX-License-Identifier: Apache-2.0
// A plugin's self-description, checked with the wire-format reader of
// protobuf-lite: the host links no descriptor classes (see drpc/plugin.h).
#include "plugin_description.hpp"

#include <drpc/error.hpp>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>
#include <cstring>
#include <string_view>
#include <vector>

namespace drpc::host {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Field numbers of google/protobuf/descriptor.proto.
constexpr int set_file = 1;            // FileDescriptorSet.file
constexpr int file_package = 2;        // FileDescriptorProto.package
constexpr int file_message_type = 4;   // FileDescriptorProto.message_type
constexpr int message_name = 1;        // DescriptorProto.name
constexpr int message_nested_type = 3; // DescriptorProto.nested_type
/// Messages nested deeper than this are refused rather than recursed into.
constexpr int max_nesting = 32;

/// The text at `text`, NUL-terminated within `max` bytes (NUL included),
/// of characters `allowed` accepts. Throws naming `what`.
std::string bounded_text(const char *text, size_t max, bool (*allowed)(char), const std::string &what)
{
	if (text == nullptr)
		throw drpc::Error(what + " is NULL");
	const void *end = std::memchr(text, '\0', max);
	if (end == nullptr)
		throw drpc::Error(what + " is not NUL-terminated within " + std::to_string(max) + " bytes");
	const std::string_view value(text, static_cast<size_t>(static_cast<const char *>(end) - text));
	if (value.empty())
		throw drpc::Error(what + " is empty");
	for (const char c : value) {
		if (!allowed(c))
			throw drpc::Error(what + " has a character other than " +
			                  (allowed('.') ? "[A-Za-z0-9_.]" : "[A-Za-z0-9_]"));
	}
	return std::string(value);
}

bool is_word_char(char c) noexcept
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_type_char(char c) noexcept { return is_word_char(c) || c == '.'; }

[[noreturn]] void malformed(const std::string &where)
{
	throw drpc::Error("descriptor set: malformed wire data in " + where +
	                  " (not a FileDescriptorSet from protoc --descriptor_set_out)");
}

/// Reads one length-delimited field's bytes.
std::string read_bytes(CodedInputStream &in, const std::string &where)
{
	uint32_t length = 0;
	std::string bytes;
	if (!in.ReadVarint32(&length) || length > INT_MAX || !in.ReadString(&bytes, static_cast<int>(length)))
		malformed(where);
	return bytes;
}

/// Walks a message's fields, handing each length-delimited one of interest
/// to `on_field` and skipping the rest; the input must end exactly at a field.
template <class OnField> void walk(std::string_view bytes, const std::string &where, OnField on_field)
{
	CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()), static_cast<int>(bytes.size()));
	while (true) {
		const uint32_t tag = in.ReadTag();
		if (tag == 0) {
			if (in.CurrentPosition() != static_cast<int>(bytes.size()))
				malformed(where);
			return;
		}
		if (!on_field(in, tag) && !WireFormatLite::SkipField(&in, tag))
			malformed(where);
	}
}

bool is_bytes_field(uint32_t tag, int number) noexcept
{
	return WireFormatLite::GetTagFieldNumber(tag) == number &&
	       WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
}

/// Adds the message in `bytes` (a DescriptorProto) and its nested ones.
void add_message(std::string_view bytes, const std::string &scope, int depth, std::set<std::string, std::less<>> &names,
                 const std::string &where)
{
	if (depth > max_nesting)
		throw drpc::Error("descriptor set: messages nested more than " + std::to_string(max_nesting) +
		                  " deep in " + where);
	std::string name;
	std::vector<std::string> nested;
	walk(bytes, where, [&](CodedInputStream &in, uint32_t tag) {
		if (is_bytes_field(tag, message_name))
			name = read_bytes(in, where);
		else if (is_bytes_field(tag, message_nested_type))
			nested.push_back(read_bytes(in, where));
		else
			return false;
		return true;
	});
	const std::string full = scope.empty() ? name : scope + "." + name;
	names.insert(full);
	for (const std::string &inner : nested)
		add_message(inner, full, depth + 1, names, where);
}

} // namespace

std::set<std::string, std::less<>> defined_message_types(std::span<const uint8_t> set)
{
	const std::string_view set_bytes(reinterpret_cast<const char *>(set.data()), set.size());
	std::vector<std::string> files;
	walk(set_bytes, "the set", [&](CodedInputStream &in, uint32_t tag) {
		if (!is_bytes_field(tag, set_file))
			malformed("the set (a field other than 'file')");
		files.push_back(read_bytes(in, "the set"));
		return true;
	});
	if (files.empty())
		throw drpc::Error("descriptor set: has no file");
	std::set<std::string, std::less<>> names;
	for (size_t i = 0; i < files.size(); ++i) {
		const std::string where = "file " + std::to_string(i);
		std::string package;
		std::vector<std::string> messages;
		walk(files[i], where, [&](CodedInputStream &in, uint32_t tag) {
			if (is_bytes_field(tag, file_package))
				package = read_bytes(in, where);
			else if (is_bytes_field(tag, file_message_type))
				messages.push_back(read_bytes(in, where));
			else
				return false;
			return true;
		});
		for (const std::string &message : messages)
			add_message(message, package, 0, names, where);
	}
	return names;
}

ModuleDescription read_description(const drpc_plugin_description &description)
{
	if (description.version != DRPC_PLUGIN_DESCRIPTION_VERSION)
		throw drpc::Error("description version " + std::to_string(description.version) + ", this host reads " +
		                  std::to_string(DRPC_PLUGIN_DESCRIPTION_VERSION));
	if (description.method_count > DRPC_DESCRIPTION_METHODS_MAX)
		throw drpc::Error("description has " + std::to_string(description.method_count) +
		                  " methods, more than " + std::to_string(DRPC_DESCRIPTION_METHODS_MAX));
	if (description.method_count != 0 && description.methods == nullptr)
		throw drpc::Error("description has " + std::to_string(description.method_count) +
		                  " methods and a NULL methods array");
	if (description.descriptor_set_len > DRPC_DESCRIPTOR_SET_MAX)
		throw drpc::Error("descriptor set is " + std::to_string(description.descriptor_set_len) +
		                  " bytes, more than " + std::to_string(DRPC_DESCRIPTOR_SET_MAX));
	if (description.descriptor_set_len != 0 && description.descriptor_set == nullptr)
		throw drpc::Error("descriptor set is " + std::to_string(description.descriptor_set_len) +
		                  " bytes at NULL");

	ModuleDescription result;
	result.methods.reserve(description.method_count);
	for (uint32_t i = 0; i < description.method_count; ++i) {
		const drpc_method_description &method = description.methods[i];
		const std::string where =
			"method " + std::to_string(i) + " (number " + std::to_string(method.method) + ")";
		MethodDescription copy;
		copy.method = method.method;
		copy.name = bounded_text(method.name, DRPC_DESCRIPTION_NAME_MAX, is_word_char, where + ": name");
		copy.request_type = bounded_text(method.request_type, DRPC_DESCRIPTION_TYPE_MAX, is_type_char,
		                                 where + " " + copy.name + ": request type");
		copy.response_type = bounded_text(method.response_type, DRPC_DESCRIPTION_TYPE_MAX, is_type_char,
		                                  where + " " + copy.name + ": response type");
		for (const MethodDescription &earlier : result.methods) {
			if (earlier.method == copy.method || earlier.name == copy.name)
				throw drpc::Error(where + " " + copy.name + ": its number or name is described twice");
		}
		result.methods.push_back(std::move(copy));
	}
	if (description.descriptor_set_len == 0)
		return result;
	result.descriptor_set.assign(reinterpret_cast<const char *>(description.descriptor_set),
	                             static_cast<size_t>(description.descriptor_set_len));
	const auto types = defined_message_types(std::span(
		reinterpret_cast<const uint8_t *>(result.descriptor_set.data()), result.descriptor_set.size()));
	for (const MethodDescription &method : result.methods) {
		for (const std::string *type : {&method.request_type, &method.response_type}) {
			if (!types.contains(*type))
				throw drpc::Error("method " + method.name + ": type " + *type +
				                  " is not defined in the descriptor set");
		}
	}
	return result;
}

} // namespace drpc::host
