// SPDX-License-Identifier: Apache-2.0
/// @file drpc/lifecycle/module_description.hpp
/// What a module says of itself (drpc/plugin.h's describe()): its methods
/// and the descriptors of their messages, as the host keeps them once read
/// and checked, for admin DESCRIBE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drpc::host {

/// One method, callable by name.
struct MethodDescription {
	int32_t method = 0;
	std::string name;          ///< "Put"
	std::string request_type;  ///< "kv.PutRequest"
	std::string response_type; ///< "kv.PutResponse"
};

struct ModuleDescription {
	std::vector<MethodDescription> methods; ///< in the plugin's order
	/// A serialized google.protobuf.FileDescriptorSet; empty when none.
	std::string descriptor_set;
};

} // namespace drpc::host
