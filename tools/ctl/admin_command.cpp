// SPDX-License-Identifier: Apache-2.0
// The admin commands' shared parts: options, the call through
// drpc::ClientConnection with dynamic admin.proto messages, field reading
// and text formatting.

#include "admin_command.hpp"

#include "descriptors.hpp"
#include "errors.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/status.hpp>

#include <google/protobuf/dynamic_message.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>

namespace drpc::ctl {

namespace {

using google::protobuf::FieldDescriptor;

/// Checks that a compiled-in field has the type the code expects.
void expect(const FieldDescriptor &field, std::initializer_list<FieldDescriptor::CppType> types)
{
	if (std::find(types.begin(), types.end(), field.cpp_type()) == types.end())
		throw std::logic_error("admin field " + field.full_name() + " has an unexpected type");
}

const FieldDescriptor &find_field(const google::protobuf::Message &message, std::string_view name)
{
	const FieldDescriptor *field = message.GetDescriptor()->FindFieldByName(std::string(name));
	if (field == nullptr)
		throw std::logic_error(message.GetDescriptor()->full_name() + " has no field " + std::string(name));
	return *field;
}

} // namespace

AdminOptions parse_admin_options(ArgCursor &args, GlobalOptions &global, std::string_view command,
                                 const std::vector<std::string_view> &argument_names)
{
	const std::string prefix = std::string(command) + ": ";
	AdminOptions options;
	while (!args.done()) {
		if (!args.at_option()) {
			const std::string_view argument = args.take("an argument");
			if (options.arguments.size() == argument_names.size())
				throw UsageError(prefix + "unexpected argument '" + std::string(argument) + "'");
			options.arguments.emplace_back(argument);
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
		} else if (option.name == "--json") {
			args.no_value(option);
			options.json = true;
		} else if (option.name == "--timeout") {
			options.timeout = std::chrono::milliseconds(parse_uint64(args.value(option), option.name));
		} else {
			throw UsageError(prefix + "unknown option '" + std::string(option.name) + "'");
		}
	}
	if (options.arguments.size() < argument_names.size())
		throw UsageError(prefix + "missing " + std::string(argument_names[options.arguments.size()]));
	return options;
}

std::unique_ptr<google::protobuf::Message> new_admin_message(std::string_view type)
{
	// The descriptor first: that builds the pool before the factory, so that
	// at exit the factory and its prototypes go before the pool they use.
	const google::protobuf::Descriptor &descriptor = Descriptors::builtin().message(type);
	static google::protobuf::DynamicMessageFactory factory;
	return std::unique_ptr<google::protobuf::Message>(factory.GetPrototype(&descriptor)->New());
}

void set_text(google::protobuf::Message &message, std::string_view name, const std::string &value)
{
	const FieldDescriptor &field = find_field(message, name);
	expect(field, {FieldDescriptor::CPPTYPE_STRING});
	message.GetReflection()->SetString(&message, &field, value);
}

void set_int32(google::protobuf::Message &message, std::string_view name, int32_t value)
{
	const FieldDescriptor &field = find_field(message, name);
	expect(field, {FieldDescriptor::CPPTYPE_INT32});
	message.GetReflection()->SetInt32(&message, &field, value);
}

AdminAnswer call_admin(const GlobalOptions &global, const AdminOptions &options, AdminMethod method,
                       const google::protobuf::Message &request, std::string_view response_type)
{
	Call call;
	call.set_module(admin_module_id);
	call.set_method(Descriptors::builtin().enum_value("admin.Method", method));
	call.set_body(request.SerializeAsString());

	ClientConnection connection(global.socket, client_options(global));
	try {
		connection.connect();
	} catch (const SystemError &e) {
		throw Error(std::string(e.what()) + " (is the host running? --socket or DRPC_SOCKET picks the socket)");
	}
	const Response response = connection.send_msg(call, options.timeout);

	AdminAnswer answer;
	answer.status = response.status();
	if (answer.status != Status::SUCCESS)
		return answer;
	answer.body = response.body();
	answer.message = new_admin_message(response_type);
	if (!answer.message->ParseFromString(answer.body))
		throw ProtocolError("the admin module's answer (" + std::to_string(answer.body.size()) +
		                    " bytes) does not decode as " + std::string(response_type));
	return answer;
}

int report_status(std::string_view command, Status status)
{
	std::cerr << "drpc-ctl: " << command << ": the host answered " << to_string(status);
	if (status == Status::UNKNOWN_MODULE)
		std::cerr << " (no admin module " << format_module_id(admin_module_id) << " there: is it a drpc-host?)";
	std::cerr << '\n';
	return exit_status;
}

void print_json(std::string_view response_type, const AdminAnswer &answer, std::ostream &out)
{
	const Descriptors &descriptors = Descriptors::builtin();
	const std::optional<std::string> json =
		descriptors.bytes_to_json(descriptors.message(response_type), answer.body);
	if (!json)
		throw ProtocolError("the admin module's answer does not print as " + std::string(response_type));
	out << *json << '\n';
}

const FieldDescriptor &FieldReader::field(std::string_view name) const { return find_field(message_, name); }

int64_t FieldReader::int64(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_INT32, FieldDescriptor::CPPTYPE_INT64});
	const auto *reflection = message_.GetReflection();
	return f.cpp_type() == FieldDescriptor::CPPTYPE_INT32 ? reflection->GetInt32(message_, &f)
	                                                      : reflection->GetInt64(message_, &f);
}

uint64_t FieldReader::uint64(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_UINT32, FieldDescriptor::CPPTYPE_UINT64});
	const auto *reflection = message_.GetReflection();
	return f.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ? reflection->GetUInt32(message_, &f)
	                                                       : reflection->GetUInt64(message_, &f);
}

std::string FieldReader::text(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_STRING});
	return message_.GetReflection()->GetString(message_, &f);
}

bool FieldReader::flag(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_BOOL});
	return message_.GetReflection()->GetBool(message_, &f);
}

std::optional<FieldReader> FieldReader::child(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_MESSAGE});
	const auto *reflection = message_.GetReflection();
	if (!reflection->HasField(message_, &f))
		return std::nullopt;
	return FieldReader(reflection->GetMessage(message_, &f));
}

std::vector<FieldReader> FieldReader::elements(std::string_view name) const
{
	const FieldDescriptor &f = field(name);
	expect(f, {FieldDescriptor::CPPTYPE_MESSAGE});
	if (!f.is_repeated())
		throw std::logic_error("admin field " + f.full_name() + " is not repeated");
	const auto *reflection = message_.GetReflection();
	std::vector<FieldReader> result;
	const int count = reflection->FieldSize(message_, &f);
	for (int i = 0; i < count; ++i)
		result.emplace_back(reflection->GetRepeatedMessage(message_, &f, i));
	return result;
}

void Table::print(std::ostream &out, std::string_view indent) const
{
	std::vector<size_t> widths;
	for (const auto &row : rows_) {
		for (size_t column = 0; column < row.size(); ++column) {
			if (widths.size() <= column)
				widths.push_back(0);
			widths[column] = std::max(widths[column], row[column].size());
		}
	}
	for (const auto &row : rows_) {
		out << indent;
		for (size_t column = 0; column < row.size(); ++column) {
			out << row[column];
			// No padding after the last cell: no trailing blanks.
			if (column + 1 < row.size())
				out << std::string(widths[column] - row[column].size() + 2, ' ');
		}
		out << '\n';
	}
}

std::string format_module_id(int64_t id)
{
	if (id < 0x10000000 || id > 0x7FFFFFFF)
		return std::to_string(id);
	char text[16];
	std::snprintf(text, sizeof(text), "0x%08llX", static_cast<unsigned long long>(id));
	return text;
}

std::string format_local_time(int64_t unix_ms)
{
	if (unix_ms == 0)
		return "-";
	const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
	std::tm local{};
	char text[32];
	if (localtime_r(&seconds, &local) == nullptr ||
	    std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &local) == 0)
		return std::to_string(unix_ms) + " ms";
	return text;
}

std::string format_duration(uint64_t ms)
{
	const uint64_t seconds = ms / 1000;
	char text[48];
	std::snprintf(text, sizeof(text), "%02llu:%02llu:%02llu", static_cast<unsigned long long>(seconds / 3600 % 24),
	              static_cast<unsigned long long>(seconds / 60 % 60),
	              static_cast<unsigned long long>(seconds % 60));
	const uint64_t days = seconds / 86400;
	return days == 0 ? std::string(text) : std::to_string(days) + "d " + text;
}

std::string describe_module(const FieldReader &module)
{
	std::string text = "module " + format_module_id(module.int64("id")) + " (" + module.text("name") + " " +
	                   module.text("version") + ")";
	if (const std::string source = module.text("source_file"); !source.empty())
		text += " from " + source;
	text += ", generation " + std::to_string(module.uint64("generation"));
	// "serving" and "unloaded" go without saying; "draining" and "pinned" do not.
	if (const std::string state = module.text("state"); state == "draining" || state == "pinned")
		text += " (" + state + ")";
	return text;
}

int run_module_operation(const GlobalOptions &global, const AdminOptions &options, std::string_view command,
                         AdminMethod method, const google::protobuf::Message &request, std::string_view done,
                         std::ostream &out)
{
	constexpr std::string_view type = "admin.ModuleOpResponse";
	const AdminAnswer answer = call_admin(global, options, method, request, type);
	if (answer.status != Status::SUCCESS)
		return report_status(command, answer.status);
	const FieldReader response(*answer.message);
	if (options.json)
		print_json(type, answer, out);
	if (!response.flag("ok")) {
		std::cerr << "drpc-ctl: " << command << ": " << response.text("error") << '\n';
		return exit_status;
	}
	if (!options.json) {
		out << done;
		if (const std::optional<FieldReader> module = response.child("module"))
			out << ' ' << describe_module(*module);
		out << '\n';
	}
	return exit_ok;
}

int run_module_id_command(ArgCursor &args, GlobalOptions &global, std::ostream &out, const ModuleIdCommand &command)
{
	const std::string name(command.name);
	const AdminOptions options = parse_admin_options(args, global, name, {"ID"});
	if (options.help) {
		command.print_help(out);
		return exit_ok;
	}
	const int32_t id = parse_int32(options.arguments[0], name + " ID");
	const auto request = new_admin_message(std::string(command.request_type));
	set_int32(*request, "id", id);
	return run_module_operation(global, options, name + " " + format_module_id(id), command.method, *request,
	                            command.done, out);
}

} // namespace drpc::ctl
