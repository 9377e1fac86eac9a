// SPDX-License-Identifier: Apache-2.0
/// @file type_sources.hpp
/// Where drpc-ctl's message types come from, first first: what the host
/// said of the module called (admin DESCRIBE), --protoset files (serialized
/// FileDescriptorSets), --proto files (compiled with protobuf's own compiler
/// library), then the descriptors compiled in. Every source yields
/// FileDescriptorProtos; the first file of a name wins.
#pragma once

#include "args.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <filesystem>
#include <string>
#include <vector>

namespace drpc::ctl {

struct TypeSourceOptions {
	std::vector<std::filesystem::path> protosets;
	std::vector<std::filesystem::path> protos;
	/// -I / --proto-path: where --proto files and their imports are looked up.
	std::vector<std::filesystem::path> proto_paths;
	/// Serialized FileDescriptorSets a host described its module with,
	/// before every other source.
	std::vector<std::string> described_sets;
};

/// Takes --protoset FILE, --proto FILE, -I DIR or --proto-path DIR into
/// `sources`; returns false (taking nothing) for any other option.
bool parse_type_source_option(const Option &option, ArgCursor &args, TypeSourceOptions &sources);

/// The files of every source: the described sets, --protoset and --proto
/// files first, then the compiled-in ones that they do not replace (a file
/// of the same name, such as DAOS's own hello.proto, wins over ours). Throws
/// UsageError naming the file that cannot be read, parsed or compiled, and
/// drpc::ProtocolError for a described set that does not parse.
[[nodiscard]] google::protobuf::FileDescriptorSet load_type_sources(const TypeSourceOptions &sources);

/// The help text lines for the options above.
[[nodiscard]] const char *type_source_help() noexcept;

} // namespace drpc::ctl
