// SPDX-License-Identifier: Apache-2.0
/// @file worker_description.hpp
/// An isolated module's self-description on its way from the worker (which
/// maps the plugin and asks it) to the host (which answers admin DESCRIBE),
/// as admin.proto's DescribedModule: the message that already says it.
#pragma once

#include <drpc/lifecycle/module_description.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace drpc::host::isolation {

/// The worker's side. A null description encodes as "not described".
[[nodiscard]] std::string encode_worker_description(const ModuleDescription *description);

/// The host's side: the worker is not trusted, so the description goes
/// through the same checks as one read from a plugin in the host
/// (plugin_description.hpp: bounds, names, types defined in the set).
/// Null when the module does not describe itself. Throws drpc::Error
/// saying what is wrong.
[[nodiscard]] std::shared_ptr<const ModuleDescription> decode_worker_description(std::string_view bytes);

} // namespace drpc::host::isolation
