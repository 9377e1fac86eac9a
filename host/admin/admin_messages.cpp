// SPDX-License-Identifier: Apache-2.0
// The plugin manager's listings as admin.proto messages, and their encoding.
#include "admin_messages.hpp"

#include <climits>

namespace drpc::host {

int64_t unix_ms(std::chrono::system_clock::time_point when) noexcept
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

admin::ModuleInfo to_message(const ModuleRecord &record)
{
	admin::ModuleInfo info;
	info.set_id(record.id);
	info.set_name(record.name);
	info.set_version(record.version);
	info.set_source_file(record.source.string());
	info.set_generation(record.generation);
	info.set_loaded_since_unix_ms(unix_ms(record.loaded_since));
	info.set_calls_served(record.calls_served);
	info.set_failures(record.failures);
	info.set_last_load_error(record.last_load_error);
	info.set_state(std::string(state_name(record.state)));
	info.set_isolation(std::string(isolation_name(record.isolation)));
	info.set_crashes(record.crashes);
	info.set_restarts(record.restarts);
	info.set_last_cause(record.last_cause);
	return info;
}

admin::LoadFailure to_failure_message(const ModuleRecord &failed)
{
	admin::LoadFailure message;
	message.set_source_file(failed.source.string());
	message.set_error(failed.last_load_error);
	message.set_when_unix_ms(unix_ms(failed.loaded_since));
	return message;
}

admin::ModuleOpResponse to_message(const ModuleOperation &operation)
{
	admin::ModuleOpResponse response;
	response.set_ok(operation.ok);
	response.set_error(operation.error);
	if (operation.module)
		*response.mutable_module() = to_message(*operation.module);
	return response;
}

admin::DescribedModule to_description_message(const ModuleRecord &record)
{
	admin::DescribedModule message;
	message.set_id(record.id);
	message.set_name(record.name);
	message.set_version(record.version);
	message.set_described(record.description != nullptr);
	if (!record.description)
		return message;
	for (const MethodDescription &method : record.description->methods) {
		admin::DescribedMethod &described = *message.add_methods();
		described.set_method(method.method);
		described.set_name(method.name);
		described.set_request_type(method.request_type);
		described.set_response_type(method.response_type);
	}
	message.set_descriptor_set(record.description->descriptor_set);
	return message;
}

bool decode(std::span<const uint8_t> body, google::protobuf::MessageLite &message)
{
	// The server caps bodies far below INT_MAX; the check keeps the cast honest.
	return body.size() <= static_cast<size_t>(INT_MAX) &&
	       message.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

drpc::Status encode(const google::protobuf::MessageLite &message, drpc::ResponseBody &out)
{
	const size_t size = message.ByteSizeLong();
	if (size > static_cast<size_t>(INT_MAX))
		return drpc::Status::FAILED_MARSHAL;
	const std::span<uint8_t> buffer = out.reserve(size);
	if (buffer.size() != size)
		return drpc::Status::FAILED_MARSHAL;
	if (size > 0 && !message.SerializeToArray(buffer.data(), static_cast<int>(size)))
		return drpc::Status::FAILED_MARSHAL;
	return drpc::Status::SUCCESS;
}

} // namespace drpc::host
