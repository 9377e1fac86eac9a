// SPDX-License-Identifier: Apache-2.0
/// @file access_list.hpp
/// Who may call a module (modules.<name>.allow): checked on the peer's
/// credentials before the module runs, so that a refused call never reaches
/// plugin code.
#pragma once

#include <drpc/module.hpp>
#include <drpc/status.hpp>

#include <map>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace drpc::host {

/// The uids and gids that may call one module. Root and the user the host
/// runs as are always allowed: both could change the host itself anyway,
/// and keeping them in means a list can never lock the owner out.
struct AccessList {
	std::vector<uid_t> uids;
	/// Matched against the peer's primary gid (SO_PEERCRED carries no
	/// supplementary groups).
	std::vector<gid_t> gids;
	/// Everyone may call; an empty list with this false admits only root
	/// and the host's user.
	bool everyone = false;

	/// Whether `peer` may call. Cheap: a couple of comparisons and two
	/// short scans.
	[[nodiscard]] bool allows(const drpc::PeerCredentials &peer) const noexcept;
	/// "uids 1000, 1001; gids 27", "everyone", "only root and the host's user".
	[[nodiscard]] std::string describe() const;

	bool operator==(const AccessList &) const = default;
};

/// The access lists of the config, by module name.
using AccessLists = std::map<std::string, AccessList, std::less<>>;

/// Answers a call the module's access list refuses: logs it (rate-limited:
/// a refused peer may retry as fast as it likes) and returns FAILURE.
drpc::Status refuse_call(const drpc::CallContext &context, std::string_view module_name) noexcept;

} // namespace drpc::host
