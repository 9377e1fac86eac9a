// SPDX-License-Identifier: Apache-2.0
/// @file descriptors.hpp
/// The message types drpc-ctl knows (drpc, hello, kv, admin) and their
/// protobuf JSON mapping. The types come from a FileDescriptorSet compiled
/// into the binary, not from generated classes: the project's generated code
/// is lite (no descriptors), and a second, full copy of the same classes in
/// one program would clash.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::ctl {

/// The serialized FileDescriptorSet of proto/*.proto, compiled in from
/// proto/meson.build's proto_descriptor_set (drpc-plugin-protoc --embed).
[[nodiscard]] std::span<const uint8_t> builtin_descriptor_set() noexcept;

class Descriptors {
public:
	/// Builds a pool from a serialized FileDescriptorSet whose files come in
	/// dependency order (protoc --include_imports writes them so). Throws
	/// std::runtime_error naming the file that does not build.
	explicit Descriptors(std::span<const uint8_t> file_descriptor_set);
	/// Builds a pool from `set`, whose files may come in any order. Throws
	/// std::runtime_error for a file given twice, UsageError naming the file
	/// whose types do not build (a type defined twice, an import missing).
	explicit Descriptors(const google::protobuf::FileDescriptorSet &set);

	/// The compiled-in types, built on first use.
	[[nodiscard]] static const Descriptors &builtin();

	/// The message type `full_name` ("hello.Hello"); throws UsageError when
	/// there is none.
	[[nodiscard]] const google::protobuf::Descriptor &message(std::string_view full_name) const;

	/// The number of value `value` of enum `enum_name` ("admin.Method",
	/// "LOAD"); throws UsageError when there is no such enum or value.
	[[nodiscard]] int32_t enum_value(std::string_view enum_name, std::string_view value) const;

	/// Every message type's full name, sorted, nested types included.
	[[nodiscard]] std::vector<std::string> message_names() const;

	/// Encodes `json` (protobuf's JSON mapping; unknown fields refused) as a
	/// message of type `type`. Throws UsageError saying what is wrong.
	[[nodiscard]] std::string json_to_bytes(const google::protobuf::Descriptor &type, std::string_view json) const;

	/// `bytes` decoded as `type` and printed as one line of JSON, every field
	/// included, with the .proto field names and 64-bit integers as numbers;
	/// nothing when they do not decode.
	[[nodiscard]] std::optional<std::string> bytes_to_json(const google::protobuf::Descriptor &type,
	                                                       std::string_view bytes) const;

private:
	google::protobuf::SimpleDescriptorDatabase database_;
	std::unique_ptr<google::protobuf::DescriptorPool::ErrorCollector> errors_; // pool_ reports here
	std::unique_ptr<google::protobuf::DescriptorPool> pool_;                   // reads database_
	std::vector<const google::protobuf::FileDescriptor *> files_;
	// GetPrototype() is thread-safe, so the factory may be used through a const Descriptors.
	mutable google::protobuf::DynamicMessageFactory factory_;
};

} // namespace drpc::ctl
