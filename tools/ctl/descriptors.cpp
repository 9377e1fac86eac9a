// SPDX-License-Identifier: Apache-2.0
// Message types from a FileDescriptorSet, and the JSON mapping through
// dynamic messages.

#include "descriptors.hpp"

#include "errors.hpp"
#include "json_numbers.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <stdexcept>

// Defined by the source file drpc-plugin-protoc --embed generates.
extern "C" {
extern const uint8_t drpc_ctl_descriptor_set[];
extern const uint64_t drpc_ctl_descriptor_set_len;
}

namespace drpc::ctl {

std::span<const uint8_t> builtin_descriptor_set() noexcept
{
	return {drpc_ctl_descriptor_set, static_cast<size_t>(drpc_ctl_descriptor_set_len)};
}

namespace {

void collect_names(const google::protobuf::Descriptor &message, std::vector<std::string> &names)
{
	names.push_back(message.full_name());
	for (int i = 0; i < message.nested_type_count(); ++i)
		collect_names(*message.nested_type(i), names);
}

/// The first reason a file does not build, for the error message.
class PoolErrors : public google::protobuf::DescriptorPool::ErrorCollector {
public:
	void AddError(const std::string &filename, const std::string &element_name, const google::protobuf::Message *,
	              ErrorLocation, const std::string &message) override
	{
		if (text.empty())
			text = filename + ": " + element_name + ": " + message;
	}
	std::string text;
};

google::protobuf::FileDescriptorSet parse_set(std::span<const uint8_t> file_descriptor_set)
{
	google::protobuf::FileDescriptorSet set;
	if (file_descriptor_set.size() > static_cast<size_t>(INT_MAX) ||
	    !set.ParseFromArray(file_descriptor_set.data(), static_cast<int>(file_descriptor_set.size())))
		throw std::runtime_error("the descriptor set (" + std::to_string(file_descriptor_set.size()) +
		                         " bytes) is not a FileDescriptorSet");
	return set;
}

} // namespace

Descriptors::Descriptors(std::span<const uint8_t> file_descriptor_set) : Descriptors(parse_set(file_descriptor_set)) {}

Descriptors::Descriptors(const google::protobuf::FileDescriptorSet &set)
{
	// Through a database the files may come in any order: each is built
	// with its imports on first lookup.
	for (const google::protobuf::FileDescriptorProto &file : set.file()) {
		if (!database_.Add(file))
			throw UsageError("the message types of " + file.name() +
			                 " repeat a file or a type of another source");
	}
	auto errors = std::make_unique<PoolErrors>();
	PoolErrors &collected = *errors;
	errors_ = std::move(errors);
	pool_ = std::make_unique<google::protobuf::DescriptorPool>(&database_, errors_.get());
	for (const google::protobuf::FileDescriptorProto &file : set.file()) {
		const google::protobuf::FileDescriptor *built = pool_->FindFileByName(file.name());
		if (built == nullptr)
			throw UsageError("the message types of " + file.name() + " do not build: " +
			                 (collected.text.empty() ? "an import is missing" : collected.text));
		files_.push_back(built);
	}
}

const Descriptors &Descriptors::builtin()
{
	static const Descriptors descriptors(builtin_descriptor_set());
	return descriptors;
}

const google::protobuf::Descriptor &Descriptors::message(std::string_view full_name) const
{
	const google::protobuf::Descriptor *type = pool_->FindMessageTypeByName(std::string(full_name));
	if (type == nullptr)
		throw UsageError("unknown message type '" + std::string(full_name) +
		                 "' ('drpc-ctl types' lists the known ones; --proto or --protoset adds more)");
	return *type;
}

int32_t Descriptors::enum_value(std::string_view enum_name, std::string_view value) const
{
	const google::protobuf::EnumDescriptor *type = pool_->FindEnumTypeByName(std::string(enum_name));
	const google::protobuf::EnumValueDescriptor *found =
		type == nullptr ? nullptr : type->FindValueByName(std::string(value));
	if (found == nullptr)
		throw UsageError("unknown enum value " + std::string(enum_name) + "." + std::string(value));
	return found->number();
}

std::vector<std::string> Descriptors::message_names() const
{
	std::vector<std::string> names;
	for (const google::protobuf::FileDescriptor *file : files_) {
		for (int i = 0; i < file->message_type_count(); ++i)
			collect_names(*file->message_type(i), names);
	}
	std::sort(names.begin(), names.end());
	return names;
}

std::string Descriptors::json_to_bytes(const google::protobuf::Descriptor &type, std::string_view json) const
{
	std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(&type)->New());
	const auto status = google::protobuf::util::JsonStringToMessage(std::string(json), message.get());
	if (!status.ok())
		throw UsageError("the JSON is not a valid " + type.full_name() + ": " + std::string(status.message()));
	std::string bytes;
	if (!message->SerializeToString(&bytes))
		throw UsageError("the JSON gives a " + type.full_name() + " that cannot be encoded");
	return bytes;
}

std::optional<std::string> Descriptors::bytes_to_json(const google::protobuf::Descriptor &type,
                                                      std::string_view bytes) const
{
	std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(&type)->New());
	if (bytes.size() > static_cast<size_t>(INT_MAX) ||
	    !message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
		return std::nullopt;
	google::protobuf::util::JsonPrintOptions options;
	// A CLI user reads the .proto, so its field names and its zero values are shown.
	options.always_print_primitive_fields = true;
	options.preserve_proto_field_names = true;
	std::string json;
	if (!google::protobuf::util::MessageToJsonString(*message, &json, options).ok())
		return std::nullopt;
	return int64_fields_as_numbers(type, json);
}

} // namespace drpc::ctl
