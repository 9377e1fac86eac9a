// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl describe`: DESCRIBE of one module, its types built from the
// descriptor set it sent and printed with protobuf's DebugString().

#include "describe_command.hpp"

#include "admin_command.hpp"
#include "descriptors.hpp"
#include "errors.hpp"
#include "host_description.hpp"
#include "type_sources.hpp"

#include <cctype>
#include <set>
#include <string>

namespace drpc::ctl {
namespace {

/// protoc fills in every field's json_name; as .proto text that is noise
/// ([json_name = "key"]) unless it was written so. Printing only.
void drop_default_json_names(google::protobuf::DescriptorProto &message)
{
	for (google::protobuf::FieldDescriptorProto &field : *message.mutable_field()) {
		// protobuf's default: the name in lowerCamelCase ("max_keys" -> "maxKeys").
		std::string camel;
		bool upper = false;
		for (const char c : field.name()) {
			if (c == '_')
				upper = true;
			else
				camel += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
			upper = upper && c == '_';
		}
		if (field.json_name() == camel)
			field.clear_json_name();
	}
	for (google::protobuf::DescriptorProto &nested : *message.mutable_nested_type())
		drop_default_json_names(nested);
}

} // namespace

int run_describe(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	const AdminOptions options = parse_admin_options(args, global, "describe", {"MODULE[.METHOD]"});
	if (options.help) {
		print_describe_help(out);
		return exit_ok;
	}
	if (options.json)
		throw UsageError("describe: no --json: 'drpc-ctl list --json' gives the host's answer as JSON");
	// "kv" is a module; "kv.Put" its method, unless a module is named "kv.Put".
	Target target = parse_target(options.arguments[0], false, "describe:");
	DescribedModule module;
	try {
		module = find_module(global, options.timeout, target);
	} catch (const UsageError &) {
		if (target.method.empty())
			throw;
		target = {options.arguments[0], {}};
		module = find_module(global, options.timeout, target);
	}
	out << "module " << format_module_id(module.id) << ' ' << module.name << ' ' << module.version << '\n';
	if (!module.described) {
		out << "does not describe itself: call it with --module " << module.id << " --method N\n";
		return target.method.empty() ? exit_ok : exit_status;
	}
	std::vector<const DescribedMethod *> methods;
	if (target.method.empty()) {
		for (const DescribedMethod &method : module.methods)
			methods.push_back(&method);
	} else if (const DescribedMethod *method = module.find_method(target.method)) {
		methods.push_back(method);
	} else {
		throw UsageError("describe: module " + module.name + " has no method '" + target.method + "'");
	}
	for (const DescribedMethod *method : methods)
		out << "  rpc " << method->name << " (" << method->request_type << ") returns ("
		    << method->response_type << ");  // method " << method->method << '\n';

	TypeSourceOptions sources;
	if (!module.descriptor_set.empty())
		sources.described_sets.push_back(module.descriptor_set);
	google::protobuf::FileDescriptorSet set = load_type_sources(sources);
	for (google::protobuf::FileDescriptorProto &file : *set.mutable_file()) {
		for (google::protobuf::DescriptorProto &message : *file.mutable_message_type())
			drop_default_json_names(message);
	}
	const Descriptors descriptors(set);
	std::set<std::string, std::less<>> printed;
	for (const DescribedMethod *method : methods) {
		for (const std::string *type : {&method->request_type, &method->response_type}) {
			if (printed.insert(*type).second)
				out << '\n' << "// " << *type << '\n' << descriptors.message(*type).DebugString();
		}
	}
	return exit_ok;
}

void print_describe_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] describe MODULE[.METHOD] [--timeout MS]\n"
	       "\n"
	       "Shows what the host says of module MODULE (a name or an ID): its methods as\n"
	       "'rpc NAME (REQUEST) returns (RESPONSE);' lines with their numbers, then each\n"
	       "message type they use as .proto text. With .METHOD (a name or a number), that\n"
	       "method only.\n"
	       "\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Exit status: 0 described, 1 the module does not describe itself, 2 usage\n"
	       "error (no such module or method), 3 connection or protocol error.\n";
}

} // namespace drpc::ctl
