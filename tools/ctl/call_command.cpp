// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl call`: one call through drpc::ClientConnection.

#include "call_command.hpp"

#include "errors.hpp"
#include "hex.hpp"
#include "host_description.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/status.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace drpc::ctl {

namespace {

/// Reads a body file ("-": standard input), refusing more than any server
/// would accept. Read to the end rather than sized first, so that pipes and
/// /dev/stdin work too.
std::string read_body_file(const std::filesystem::path &path)
{
	const bool from_stdin = path == "-";
	std::ifstream file;
	if (!from_stdin) {
		file.open(path, std::ios::binary);
		if (!file)
			throw UsageError("--body-file " + path.string() + ": " + std::strerror(errno));
	}
	std::istream &in = from_stdin ? std::cin : file;
	const size_t cap = framing::default_max_message_bytes;
	std::string bytes;
	char chunk[64 * 1024];
	while (in.read(chunk, sizeof(chunk)) || in.gcount() > 0) {
		bytes.append(chunk, static_cast<size_t>(in.gcount()));
		if (bytes.size() > cap)
			throw UsageError("--body-file " + path.string() + ": over the " + std::to_string(cap) +
			                 "-byte message limit");
	}
	if (in.bad())
		throw UsageError("--body-file " + path.string() + ": read error");
	return bytes;
}

void print_body(const CallOptions &options, const Descriptors &descriptors, const std::string &body, std::ostream &out)
{
	if (options.response_type.empty()) {
		if (!body.empty())
			out << to_hex(body) << '\n';
		return;
	}
	const google::protobuf::Descriptor &type = descriptors.message(options.response_type);
	if (std::optional<std::string> json = descriptors.bytes_to_json(type, body)) {
		out << *json << '\n';
		return;
	}
	// Show what came, then fail: the server and the user disagree on the type.
	out << to_hex(body) << '\n';
	throw ProtocolError("the response body (" + std::to_string(body.size()) + " bytes) does not decode as " +
	                    options.response_type);
}

} // namespace

CallOptions parse_call_options(ArgCursor &args, GlobalOptions &global)
{
	CallOptions options;
	bool have_module = false;
	bool have_method = false;
	while (!args.done()) {
		if (!args.at_option()) {
			const std::string_view argument = args.take("an argument");
			if (!options.target)
				options.target = std::string(argument);
			else if (!options.json)
				options.json = std::string(argument);
			else
				throw UsageError("call: unexpected argument '" + std::string(argument) + "'");
			continue;
		}
		const Option option = args.take_option();
		if (is_help(option)) {
			args.no_value(option);
			options.help = true;
			return options;
		}
		if (option.name == "--socket") {
			global.socket = std::string(args.value(option));
		} else if (option.name == "--module") {
			options.module = parse_int32(args.value(option), option.name);
			have_module = true;
		} else if (option.name == "--method") {
			options.method = parse_int32(args.value(option), option.name);
			have_method = true;
		} else if (option.name == "--request") {
			options.request_type = args.value(option);
		} else if (option.name == "--json") {
			options.json = std::string(args.value(option));
		} else if (option.name == "--body-hex") {
			options.body_hex = std::string(args.value(option));
		} else if (option.name == "--body-file") {
			options.body_file = std::string(args.value(option));
		} else if (option.name == "--response") {
			options.response_type = args.value(option);
		} else if (option.name == "--timeout") {
			options.timeout = std::chrono::milliseconds(parse_uint64(args.value(option), option.name));
		} else if (parse_type_source_option(option, args, options.types)) {
		} else {
			throw UsageError("call: unknown option '" + std::string(option.name) + "'");
		}
	}

	if (options.target && (have_module || have_method))
		throw UsageError("call: give MODULE.METHOD or --module and --method, not both");
	if (!options.target && (!have_module || !have_method))
		throw UsageError(std::string("call: MODULE.METHOD (e.g. kv.Put) or ") +
		                 (have_module ? "--method" : "--module") + " is required");
	const int sources = (options.json || !options.request_type.empty() ? 1 : 0) + (options.body_hex ? 1 : 0) +
	                    (options.body_file ? 1 : 0);
	if (sources > 1)
		throw UsageError("call: give one body: --request TYPE [--json TEXT], --body-hex or --body-file");
	if (options.json && options.request_type.empty() && !options.target)
		throw UsageError("call: --json needs --request TYPE to know what to encode");
	if (options.json && (options.body_hex || options.body_file))
		throw UsageError("call: give one body: JSON, --body-hex or --body-file");
	return options;
}

void resolve_target(const GlobalOptions &global, CallOptions &options)
{
	const Target target = parse_target(*options.target, true, "call:");
	const DescribedModule module = find_module(global, options.timeout, target);
	options.module = module.id;
	const DescribedMethod *method = module.find_method(target.method);
	if (method == nullptr) {
		std::string known;
		for (const DescribedMethod &m : module.methods)
			known += (known.empty() ? "" : ", ") + m.name;
		if (!target.method.empty() && (std::isdigit(static_cast<unsigned char>(target.method.front())) != 0)) {
			options.method = parse_int32(target.method, "the method number");
		} else {
			throw UsageError("call: module " + module.name + " has no method '" + target.method + "'" +
			                 (module.described
			                          ? " (its methods: " + (known.empty() ? "none" : known) + ")"
			                          : " (it does not describe itself: call its methods by number)"));
		}
	} else {
		options.method = method->method;
		if (options.request_type.empty() && !options.body_hex && !options.body_file)
			options.request_type = method->request_type;
		if (options.response_type.empty())
			options.response_type = method->response_type;
	}
	if (options.json && options.request_type.empty())
		throw UsageError("call: module " + module.name + " does not describe method " + target.method +
		                 ": give --request TYPE for the JSON (and --response TYPE)");
	if (!module.descriptor_set.empty())
		options.types.described_sets.push_back(module.descriptor_set);
}

std::string request_body(const CallOptions &options, const Descriptors &descriptors)
{
	if (!options.request_type.empty())
		return descriptors.json_to_bytes(descriptors.message(options.request_type),
		                                 options.json.value_or("{}"));
	if (options.body_hex) {
		std::optional<std::string> bytes = from_hex(*options.body_hex);
		if (!bytes)
			throw UsageError("--body-hex: not hex bytes: '" + *options.body_hex + "'");
		return *bytes;
	}
	if (options.body_file)
		return read_body_file(*options.body_file);
	return "";
}

int run_call(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	CallOptions options = parse_call_options(args, global);
	if (options.help) {
		print_call_help(out);
		return exit_ok;
	}
	if (options.target)
		resolve_target(global, options);
	const Descriptors descriptors(load_type_sources(options.types));
	// Every argument is checked before anything is sent.
	if (!options.response_type.empty())
		(void)descriptors.message(options.response_type);
	Call call;
	call.set_module(options.module);
	call.set_method(options.method);
	call.set_body(request_body(options, descriptors));

	ClientConnection connection(global.socket, client_options(global));
	try {
		connection.connect();
	} catch (const SystemError &e) {
		throw Error(std::string(e.what()) +
		            " (is the server running? --socket or DRPC_SOCKET picks the socket)");
	}
	const Response response = connection.send_msg(call, options.timeout);

	out << "status: " << to_string(response.status()) << '\n';
	if (response.status() != Status::SUCCESS)
		return exit_status;
	print_body(options, descriptors, response.body(), out);
	return exit_ok;
}

void print_call_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] call MODULE.METHOD [JSON] [--timeout MS]\n"
	       "       drpc-ctl [--socket PATH] call --module N --method M [BODY] [--response TYPE]\n"
	       "                [--timeout MS]\n"
	       "\n"
	       "Sends one dRPC call and prints 'status: NAME'; on SUCCESS the next line is the\n"
	       "response body, as JSON with a response type, else as hex (nothing when empty).\n"
	       "\n"
	       "  MODULE.METHOD      by name, as the host describes its modules ('drpc-ctl list'):\n"
	       "                     kv.Put; numbers work too (1001.0, kv.0). The request and\n"
	       "                     response types come from the host; JSON is the request\n"
	       "                     (default {}). For a module that does not describe itself,\n"
	       "                     give the method by number and the types as below.\n"
	       "  --module N         the module ID (decimal, or hex as 0x7fff0000), for any server\n"
	       "  --method M         the method ID\n"
	       "BODY, at most one of (none: an empty body):\n"
	       "  --request TYPE [--json TEXT]\n"
	       "                     a message of TYPE (e.g. hello.Hello) from protobuf's JSON\n"
	       "                     mapping; without --json, an empty message\n"
	       "  --body-hex HEX     raw bytes as hex ('0a0646726965' or '0a 06 46 ...')\n"
	       "  --body-file FILE   raw bytes from FILE ('-': standard input)\n"
	       "  --response TYPE    print the response body as JSON of TYPE (e.g. hello.HelloResponse)\n"
	       "TYPE is one of 'drpc-ctl types', or one that these add:\n"
	    << type_source_help()
	    << "other options:\n"
	       "  --timeout MS       give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH      as the global option\n"
	       "\n"
	       "64-bit integers are printed as JSON numbers. Exit status: 0 SUCCESS, 1 another\n"
	       "status, 2 usage error, 3 connection or protocol error.\n"
	       "\n"
	       "examples:\n"
	       "  drpc-ctl call hello.Greeting '{\"name\":\"Friend\"}'\n"
	       "  drpc-ctl call kv.Put '{\"key\":\"a\",\"value\":\"aGk=\"}'\n"
	       "  drpc-ctl call --module 0 --method 0 --request hello.Hello --json '{\"name\":\"Friend\"}' \\\n"
	       "      --response hello.HelloResponse\n"
	       "  drpc-ctl call --module 0 --method 0 --proto daos/hello.proto -I daos \\\n"
	       "      --request hello.Hello --json '{\"name\":\"Friend\"}' --response hello.HelloResponse\n";
}

} // namespace drpc::ctl
