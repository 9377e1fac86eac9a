// SPDX-License-Identifier: Apache-2.0
/// @file host_description.hpp
/// What a drpc-host says of its modules (admin DESCRIBE), and finding the
/// module and method a by-name target such as "kv.Put" means.
#pragma once

#include "admin_command.hpp"
#include "args.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::ctl {

struct DescribedMethod {
	int32_t method = 0;
	std::string name;
	std::string request_type;
	std::string response_type;
};

/// One module as admin.DescribedModule has it.
struct DescribedModule {
	int32_t id = 0;
	std::string name;
	std::string version;
	bool described = false; ///< false: it does not describe itself
	std::vector<DescribedMethod> methods;
	std::string descriptor_set; ///< a serialized FileDescriptorSet; may be empty

	/// The method named `name` or numbered so ("Put", "0"), or nothing.
	[[nodiscard]] const DescribedMethod *find_method(std::string_view name_or_number) const;
};

/// What DESCRIBE answered: the modules, or (status other than SUCCESS) none.
struct HostDescription {
	drpc::Status status = drpc::Status::SUCCESS;
	std::vector<DescribedModule> modules;
	AdminAnswer answer; ///< as received, for --json
};

/// Asks the host's admin module to DESCRIBE module `name` (empty: all).
/// Throws UsageError with the host's reason when it has no such module,
/// drpc::Error when the call cannot be made, ProtocolError for an answer
/// that does not decode.
[[nodiscard]] HostDescription fetch_description(const GlobalOptions &global, std::chrono::milliseconds timeout,
                                                const std::string &name);

/// A by-name target, "MODULE.METHOD" ("kv.Put", "1001.0"): split at the last
/// dot, since module names may hold dots and method names never do.
struct Target {
	std::string module; ///< a name or a number
	std::string method; ///< a name or a number; empty when only a module was given
};
/// Splits `text`; with `method_required`, a target without ".METHOD" throws
/// UsageError naming `what`.
[[nodiscard]] Target parse_target(std::string_view text, bool method_required, std::string_view what);

/// The module `target.module` names (a name, or an ID when it is a
/// number), described by the host. Throws UsageError naming what the host
/// does not have, or the status it answered.
[[nodiscard]] DescribedModule find_module(const GlobalOptions &global, std::chrono::milliseconds timeout,
                                          const Target &target);

} // namespace drpc::ctl
