// SPDX-License-Identifier: Apache-2.0
/// @file type_sources.hpp
/// Where drpc-ctl's message types come from: the descriptors compiled in,
/// then --protoset files (serialized FileDescriptorSets) and --proto files
/// (compiled with protobuf's own compiler library). Every source yields
/// FileDescriptorProtos; a later source, such as a host describing its
/// plugins, is one more function adding to the same set.
#pragma once

#include "args.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <filesystem>
#include <vector>

namespace drpc::ctl {

struct TypeSourceOptions {
	std::vector<std::filesystem::path> protosets;
	std::vector<std::filesystem::path> protos;
	/// -I / --proto-path: where --proto files and their imports are looked up.
	std::vector<std::filesystem::path> proto_paths;
};

/// Takes --protoset FILE, --proto FILE, -I DIR or --proto-path DIR into
/// `sources`; returns false (taking nothing) for any other option.
bool parse_type_source_option(const Option &option, ArgCursor &args, TypeSourceOptions &sources);

/// The files of every source: --protoset and --proto files first, then the
/// compiled-in ones that they do not replace (a file of the same name, such
/// as DAOS's own hello.proto, wins over ours). Throws UsageError naming the
/// file that cannot be read, parsed or compiled.
[[nodiscard]] google::protobuf::FileDescriptorSet load_type_sources(const TypeSourceOptions &sources);

/// The help text lines for the options above.
[[nodiscard]] const char *type_source_help() noexcept;

} // namespace drpc::ctl
