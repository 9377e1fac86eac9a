// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl types`: the compiled-in message types.

#include "types_command.hpp"

#include "descriptors.hpp"
#include "errors.hpp"
#include "type_sources.hpp"

#include <string>

namespace drpc::ctl {

int run_types(ArgCursor &args, GlobalOptions &, std::ostream &out)
{
	TypeSourceOptions sources;
	while (!args.done()) {
		const Option option = args.take_option();
		if (parse_type_source_option(option, args, sources))
			continue;
		args.no_value(option);
		if (!is_help(option))
			throw UsageError("types: unknown option '" + std::string(option.name) + "'");
		print_types_help(out);
		return exit_ok;
	}
	const Descriptors descriptors(load_type_sources(sources));
	for (const std::string &name : descriptors.message_names())
		out << name << '\n';
	return exit_ok;
}

void print_types_help(std::ostream &out)
{
	out << "usage: drpc-ctl types [--protoset FILE] [--proto FILE] [-I DIR]\n"
	       "\n"
	       "Lists the message types that 'call --request' and '--response' accept, one\n"
	       "full name per line: those of drpc.proto, hello.proto, kv.proto and admin.proto,\n"
	       "compiled into drpc-ctl, and those of the files given:\n"
	    << type_source_help();
}

} // namespace drpc::ctl
