// SPDX-License-Identifier: Apache-2.0
// admin DESCRIBE through call_admin(), read into plain structs.
#include "host_description.hpp"

#include "errors.hpp"

#include <drpc/error.hpp>
#include <drpc/status.hpp>

#include <cctype>

namespace drpc::ctl {
namespace {

std::optional<int32_t> as_number(std::string_view text)
{
	if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '-'))
		return std::nullopt;
	try {
		return parse_int32(text, "a module or method number");
	} catch (const UsageError &) {
		return std::nullopt;
	}
}

DescribedModule read_module(const FieldReader &module)
{
	DescribedModule result;
	result.id = static_cast<int32_t>(module.int64("id"));
	result.name = module.text("name");
	result.version = module.text("version");
	result.described = module.flag("described");
	result.descriptor_set = module.text("descriptor_set");
	for (const FieldReader &method : module.elements("methods"))
		result.methods.push_back({static_cast<int32_t>(method.int64("method")), method.text("name"),
		                          method.text("request_type"), method.text("response_type")});
	return result;
}

} // namespace

const DescribedMethod *DescribedModule::find_method(std::string_view name_or_number) const
{
	const std::optional<int32_t> number = as_number(name_or_number);
	for (const DescribedMethod &method : methods) {
		if (method.name == name_or_number || (number && method.method == *number))
			return &method;
	}
	return nullptr;
}

HostDescription fetch_description(const GlobalOptions &global, std::chrono::milliseconds timeout,
                                  const std::string &name)
{
	constexpr std::string_view type = "admin.DescribeResponse";
	const auto request = new_admin_message("admin.DescribeRequest");
	set_text(*request, "name", name);
	AdminOptions options;
	options.timeout = timeout;
	HostDescription description;
	description.answer = call_admin(global, options, "DESCRIBE", *request, type);
	description.status = description.answer.status;
	if (description.status != Status::SUCCESS)
		return description;
	const FieldReader answer(*description.answer.message);
	if (const std::string error = answer.text("error"); !error.empty())
		throw UsageError("the host says: " + error + " ('drpc-ctl list' shows what it serves)");
	for (const FieldReader &module : answer.elements("modules"))
		description.modules.push_back(read_module(module));
	return description;
}

Target parse_target(std::string_view text, bool method_required, std::string_view what)
{
	const size_t dot = text.rfind('.');
	if (dot == std::string_view::npos) {
		if (method_required || text.empty())
			throw UsageError(std::string(what) + " '" + std::string(text) +
			                 "' is not MODULE.METHOD (e.g. kv.Put, or 1001.0)");
		return {std::string(text), {}};
	}
	if (dot == 0 || dot + 1 == text.size())
		throw UsageError(std::string(what) + " '" + std::string(text) + "' is not MODULE.METHOD (e.g. kv.Put)");
	return {std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
}

DescribedModule find_module(const GlobalOptions &global, std::chrono::milliseconds timeout, const Target &target)
{
	// A number is an ID: only the whole listing says which module has it.
	const std::optional<int32_t> id = as_number(target.module);
	HostDescription description = fetch_description(global, timeout, id ? std::string() : target.module);
	if (description.status != Status::SUCCESS)
		throw Error(
			"DESCRIBE: the host answered " + std::string(to_string(description.status)) +
			(description.status == Status::UNKNOWN_MODULE || description.status == Status::UNKNOWN_METHOD
		                 ? " (not a drpc-host that describes its modules: use --module and --method)"
		                 : ""));
	for (DescribedModule &module : description.modules) {
		if (id ? module.id == *id : module.name == target.module)
			return std::move(module);
	}
	throw UsageError("the host serves no module " + target.module + " ('drpc-ctl list' shows what it serves)");
}

} // namespace drpc::ctl
