// SPDX-License-Identifier: Apache-2.0
// drpc-ctl's message types from --protoset and --proto, beside the compiled-in ones.
#include "type_sources.hpp"

#include "descriptors.hpp"
#include "errors.hpp"

#include <drpc/error.hpp>
#include <drpc/framing.hpp>

#include <google/protobuf/compiler/importer.h>

#include <climits>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace drpc::ctl {
namespace {

/// A descriptor set larger than this is refused before it is read.
constexpr uintmax_t max_protoset_bytes = uintmax_t{64} << 20;

/// Collects protoc's messages ("file:line:column: text") for one error.
class ErrorCollector : public google::protobuf::compiler::MultiFileErrorCollector {
public:
	void AddError(const std::string &filename, int line, int column, const std::string &message) override
	{
		if (!text_.empty())
			text_ += "; ";
		text_ += filename + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
	}
	[[nodiscard]] const std::string &text() const noexcept { return text_; }

private:
	std::string text_;
};

class FileSet {
public:
	explicit FileSet(google::protobuf::FileDescriptorSet &set) : set_(set) {}

	/// Adds `file` unless a file of its name is in already.
	void add(const google::protobuf::FileDescriptorProto &file)
	{
		if (names_.insert(file.name()).second)
			*set_.add_file() = file;
	}
	/// Adds `file` after its imports, as protoc --include_imports orders them.
	void add_with_imports(const google::protobuf::FileDescriptor &file)
	{
		if (names_.contains(file.name()))
			return;
		for (int i = 0; i < file.dependency_count(); ++i)
			add_with_imports(*file.dependency(i));
		google::protobuf::FileDescriptorProto proto;
		file.CopyTo(&proto);
		add(proto);
	}

private:
	google::protobuf::FileDescriptorSet &set_;
	std::set<std::string, std::less<>> names_;
};

void add_protoset(const std::filesystem::path &path, FileSet &files)
{
	std::error_code error;
	const uintmax_t size = std::filesystem::file_size(path, error);
	if (error)
		throw UsageError("--protoset " + path.string() + ": " + error.message());
	if (size > max_protoset_bytes)
		throw UsageError("--protoset " + path.string() + ": " + std::to_string(size) + " bytes is over the " +
		                 std::to_string(max_protoset_bytes) + "-byte limit");
	std::ifstream in(path, std::ios::binary);
	const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	google::protobuf::FileDescriptorSet set;
	if (!in.good() && !in.eof())
		throw UsageError("--protoset " + path.string() + ": cannot be read");
	if (!set.ParseFromString(bytes))
		throw UsageError(
			"--protoset " + path.string() +
			": not a FileDescriptorSet (protoc --include_imports --descriptor_set_out=FILE writes one)");
	for (const google::protobuf::FileDescriptorProto &file : set.file())
		files.add(file);
}

void add_protos(const TypeSourceOptions &sources, FileSet &files)
{
	google::protobuf::compiler::DiskSourceTree tree;
	for (const std::filesystem::path &dir : sources.proto_paths)
		tree.MapPath("", dir.string());
	if (sources.proto_paths.empty()) {
		// As protoc: without -I, each file's own directory.
		for (const std::filesystem::path &proto : sources.protos)
			tree.MapPath("", proto.has_parent_path() ? proto.parent_path().string() : ".");
	}
	// protobuf's well-known types (google/protobuf/*.proto), as protoc finds them.
	if (std::filesystem::exists("/usr/include/google/protobuf/descriptor.proto"))
		tree.MapPath("", "/usr/include");

	ErrorCollector errors;
	google::protobuf::compiler::Importer importer(&tree, &errors);
	for (const std::filesystem::path &proto : sources.protos) {
		std::string virtual_name;
		std::string shadowing;
		if (tree.DiskFileToVirtualFile(proto.string(), &virtual_name, &shadowing) !=
		    google::protobuf::compiler::DiskSourceTree::SUCCESS)
			virtual_name = proto.string(); // a name relative to an -I directory
		const google::protobuf::FileDescriptor *file = importer.Import(virtual_name);
		if (file == nullptr)
			throw UsageError("--proto " + proto.string() + ": " +
			                 (errors.text().empty() ? "not found in any -I directory" : errors.text()));
		files.add_with_imports(*file);
	}
}

} // namespace

bool parse_type_source_option(const Option &option, ArgCursor &args, TypeSourceOptions &sources)
{
	if (option.name == "--protoset")
		sources.protosets.emplace_back(args.value(option));
	else if (option.name == "--proto")
		sources.protos.emplace_back(args.value(option));
	else if (option.name == "-I" || option.name == "--proto-path")
		sources.proto_paths.emplace_back(args.value(option));
	else
		return false;
	return true;
}

google::protobuf::FileDescriptorSet load_type_sources(const TypeSourceOptions &sources)
{
	if (!sources.proto_paths.empty() && sources.protos.empty())
		throw UsageError("-I/--proto-path without --proto: nothing to look up there");
	google::protobuf::FileDescriptorSet set;
	FileSet files(set);
	for (const std::string &bytes : sources.described_sets) {
		google::protobuf::FileDescriptorSet described;
		if (!described.ParseFromString(bytes))
			throw drpc::ProtocolError("the descriptor set the host described the module with (" +
			                          std::to_string(bytes.size()) + " bytes) does not parse");
		for (const google::protobuf::FileDescriptorProto &file : described.file())
			files.add(file);
	}
	for (const std::filesystem::path &path : sources.protosets)
		add_protoset(path, files);
	if (!sources.protos.empty())
		add_protos(sources, files);

	google::protobuf::FileDescriptorSet builtin;
	const std::span<const uint8_t> bytes = builtin_descriptor_set();
	if (!builtin.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
		throw std::runtime_error("the compiled-in descriptor set does not parse");
	for (const google::protobuf::FileDescriptorProto &file : builtin.file())
		files.add(file);
	return set;
}

const char *type_source_help() noexcept
{
	return "  --protoset FILE    message types from a FileDescriptorSet (protoc\n"
	       "                     --include_imports --descriptor_set_out=FILE); repeatable\n"
	       "  --proto FILE       message types from a .proto file; repeatable\n"
	       "  -I, --proto-path DIR\n"
	       "                     where --proto files and their imports are found\n"
	       "                     (default: each file's directory); repeatable\n";
}

} // namespace drpc::ctl
