// SPDX-License-Identifier: Apache-2.0
// An isolated module's self-description between worker and host.
#include "worker_description.hpp"

#include "../lifecycle/plugin_description.hpp"

#include <drpc/error.hpp>

#include <admin.pb.h>

#include <drpc/plugin.h>

#include <vector>

namespace drpc::host::isolation {

std::string encode_worker_description(const ModuleDescription *description)
{
	admin::DescribedModule message;
	message.set_described(description != nullptr);
	if (description != nullptr) {
		for (const MethodDescription &method : description->methods) {
			admin::DescribedMethod &out = *message.add_methods();
			out.set_method(method.method);
			out.set_name(method.name);
			out.set_request_type(method.request_type);
			out.set_response_type(method.response_type);
		}
		message.set_descriptor_set(description->descriptor_set);
	}
	return message.SerializeAsString();
}

std::shared_ptr<const ModuleDescription> decode_worker_description(std::string_view bytes)
{
	admin::DescribedModule message;
	if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
		throw drpc::Error("the worker's description is not a DescribedModule message");
	if (!message.described())
		return nullptr;
	// Checked before anything is built from it, as a plugin's C struct is.
	if (static_cast<uint64_t>(message.methods_size()) > DRPC_DESCRIPTION_METHODS_MAX)
		throw drpc::Error("the worker's description has " + std::to_string(message.methods_size()) +
		                  " methods, more than " + std::to_string(DRPC_DESCRIPTION_METHODS_MAX));
	std::vector<drpc_method_description> methods;
	methods.reserve(static_cast<size_t>(message.methods_size()));
	for (const admin::DescribedMethod &method : message.methods()) {
		methods.push_back(drpc_method_description{
			.method = method.method(),
			.reserved = 0,
			.name = method.name().c_str(),
			.request_type = method.request_type().c_str(),
			.response_type = method.response_type().c_str(),
		});
	}
	const std::string &set = message.descriptor_set();
	const drpc_plugin_description description{
		.version = DRPC_PLUGIN_DESCRIPTION_VERSION,
		.method_count = static_cast<uint32_t>(methods.size()),
		.methods = methods.empty() ? nullptr : methods.data(),
		.descriptor_set = set.empty() ? nullptr : reinterpret_cast<const uint8_t *>(set.data()),
		.descriptor_set_len = set.size(),
	};
	return std::make_shared<const ModuleDescription>(read_description(description));
}

} // namespace drpc::host::isolation
