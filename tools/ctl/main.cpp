// SPDX-License-Identifier: Apache-2.0
// drpc-ctl: a command-line dRPC client. This file reads the global options,
// picks the command and turns what it throws into a message and an exit code.

#include "args.hpp"
#include "call_command.hpp"
#include "describe_command.hpp"
#include "errors.hpp"
#include "list_command.hpp"
#include "load_command.hpp"
#include "modules_command.hpp"
#include "reload_command.hpp"
#include "stats_command.hpp"
#include "types_command.hpp"
#include "unload_command.hpp"

#include <drpc/error.hpp>

#include <array>

#ifndef DRPC_CTL_VERSION
#define DRPC_CTL_VERSION "unknown"
#endif
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace drpc::ctl;

struct Command {
	std::string_view name;
	std::string_view summary;
	int (*run)(ArgCursor &args, GlobalOptions &global, std::ostream &out);
};

// A new command is one row here and one <name>_command.{hpp,cpp} pair.
constexpr std::array commands{
	Command{"call", "send one call (kv.Put '{json}') and print the status and the answer", &run_call},
	Command{"list", "list the host's modules and the methods each describes", &run_list},
	Command{"describe", "show a module's or a method's message types as .proto text", &run_describe},
	Command{"types", "list the message types that call's --request and --response know", &run_types},
	Command{"modules", "list the host's modules, and the plugin files it refused", &run_modules},
	Command{"load", "load (or reload) a plugin file of the host's plugins directory", &run_load},
	Command{"unload", "unload a plugin module by ID", &run_unload},
	Command{"reload", "load a plugin module's file again and swap it in", &run_reload},
	Command{"stats", "the host's sessions, calls served, uptime and module count", &run_stats},
};

void print_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] [--server-uid UID | --any-server-uid] COMMAND [OPTIONS]\n"
	       "\n"
	       "A client for dRPC servers such as drpc-host.\n"
	       "\n"
	       "  --socket PATH   the server's socket (default: $DRPC_SOCKET, else "
	    << host_default_socket
	    << ")\n"
	       "  --server-uid UID  talk only to a server running as UID (SO_PEERCRED);\n"
	       "                  the default when drpc-ctl runs as root is 0\n"
	       "  --any-server-uid  talk to a server whatever its uid (the default for others)\n"
	       "  -h, --help      this text; 'drpc-ctl COMMAND --help' explains a command\n"
	       "  -V, --version   print the version and exit\n"
	       "\n"
	       "commands:\n";
	for (const Command &command : commands)
		out << "  " << command.name << std::string(10 - command.name.size(), ' ') << command.summary << '\n';
	out << "\n"
	       "list, describe, modules, load, unload, reload and stats talk to drpc-host's\n"
	       "admin module (0x7fff0000); all but describe take --json to print the host's\n"
	       "answer as JSON.\n"
	       "\n"
	       "exit status:\n"
	       "  0  success (for call: the server answered SUCCESS)\n"
	       "  1  the server answered another status (call prints it as 'status: NAME'),\n"
	       "     or the host refused or failed a load, unload or reload (reason on stderr)\n"
	       "  2  usage error: unknown option, bad number, unknown type, bad JSON or hex\n"
	       "  3  no connection, a timeout, a protocol error, or another runtime error\n";
}

const Command *find_command(std::string_view name)
{
	for (const Command &command : commands) {
		if (command.name == name)
			return &command;
	}
	return nullptr;
}

int run(ArgCursor &args, std::string &usage_hint)
{
	GlobalOptions global;
	while (args.at_option()) {
		const Option option = args.take_option();
		if (is_help(option)) {
			args.no_value(option);
			print_help(std::cout);
			return exit_ok;
		}
		if (option.name == "--version" || option.name == "-V") {
			args.no_value(option);
			std::cout << "drpc-ctl " DRPC_CTL_VERSION "\n";
			return exit_ok;
		}
		if (option.name == "--socket") {
			global.socket = std::string(args.value(option));
		} else if (option.name == "--server-uid") {
			const uint64_t uid = parse_uint64(args.value(option), "--server-uid");
			if (uid > UINT32_MAX - 1)
				throw UsageError("--server-uid " + std::to_string(uid) + " is not a uid");
			global.server_uid = static_cast<uid_t>(uid);
		} else if (option.name == "--any-server-uid") {
			args.no_value(option);
			global.server_uid.reset();
		} else {
			throw UsageError("unknown option '" + std::string(option.name) + "'");
		}
	}
	std::string_view name = args.take("command ('drpc-ctl --help' lists them)");
	if (name == "help") {
		if (args.done()) {
			print_help(std::cout);
			return exit_ok;
		}
		// "help call" is "call --help".
		name = args.take("command");
		args = ArgCursor({"--help"});
	}
	const Command *command = find_command(name);
	if (command == nullptr)
		throw UsageError("unknown command '" + std::string(name) + "' ('drpc-ctl --help' lists them)");
	usage_hint = "drpc-ctl " + std::string(command->name) + " --help";
	return command->run(args, global, std::cout);
}

} // namespace

int main(int argc, char **argv)
{
	ArgCursor args(std::vector<std::string_view>(argv + 1, argv + argc));
	std::string usage_hint = "drpc-ctl --help";
	try {
		return run(args, usage_hint);
	} catch (const UsageError &e) {
		std::cerr << "drpc-ctl: " << e.what() << "\nTry '" << usage_hint << "'.\n";
		return exit_usage;
	} catch (const drpc::Error &e) {
		std::cerr << "drpc-ctl: " << e.what() << '\n';
		return exit_connection;
	} catch (const std::exception &e) {
		std::cerr << "drpc-ctl: " << e.what() << '\n';
		return exit_connection;
	}
}
