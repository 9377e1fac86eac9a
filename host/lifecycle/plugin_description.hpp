// SPDX-License-Identifier: Apache-2.0
/// @file plugin_description.hpp
/// Reading and checking a plugin's self-description (drpc/plugin.h's
/// describe()) into the host's own copy, within the header's bounds.
#pragma once

#include <drpc/lifecycle/module_description.hpp>
#include <drpc/plugin.h>

#include <cstdint>
#include <set>
#include <span>
#include <string>

namespace drpc::host {

/// Copies `description` after checking it as drpc/plugin.h says the host
/// does: version, method count, each method's name and types (characters,
/// lengths, unique numbers and names), the set's size and wire structure,
/// and every method's types among the set's messages (when there is a set).
/// Throws drpc::Error saying what is wrong and where ("method 2 (Get): ...").
[[nodiscard]] ModuleDescription read_description(const drpc_plugin_description &description);

/// The full names of the messages `set` (a serialized FileDescriptorSet)
/// defines, nested ones included: "kv.PutRequest". Reads the wire format
/// only, as the host has no descriptor classes. Throws drpc::Error when `set`
/// is not a FileDescriptorSet's wire structure.
[[nodiscard]] std::set<std::string, std::less<>> defined_message_types(std::span<const uint8_t> set);

} // namespace drpc::host
