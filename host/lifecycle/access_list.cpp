// SPDX-License-Identifier: Apache-2.0
// Module access lists: the check on each call and the log of refusals.
#include <drpc/lifecycle/access_list.hpp>

#include "plugin_info.hpp"

#include <drpc/log.hpp>

#include <algorithm>
#include <unistd.h>

namespace drpc::host {
namespace {

template <typename Id> std::string join_ids(std::string_view what, const std::vector<Id> &ids)
{
	std::string text(what);
	for (size_t i = 0; i < ids.size(); ++i)
		text += (i == 0 ? " " : ", ") + std::to_string(ids[i]);
	return text;
}

} // namespace

bool AccessList::allows(const drpc::PeerCredentials &peer) const noexcept
{
	// The host never changes its uid; reading it once keeps a syscall off the call path.
	static const uid_t host_uid = ::geteuid();
	if (everyone || peer.uid == 0 || peer.uid == host_uid)
		return true;
	return std::find(uids.begin(), uids.end(), peer.uid) != uids.end() ||
	       std::find(gids.begin(), gids.end(), peer.gid) != gids.end();
}

std::string AccessList::describe() const
{
	if (everyone)
		return "everyone";
	if (uids.empty() && gids.empty())
		return "only root and the host's user";
	std::string text;
	if (!uids.empty())
		text = join_ids("uids", uids);
	if (!gids.empty())
		text += (text.empty() ? "" : "; ") + join_ids("gids", gids);
	return text + ", root and the host's user";
}

drpc::Status refuse_call(const drpc::CallContext &context, std::string_view module_name) noexcept
{
	static drpc::log::RateLimit limit("access denied");
	try {
		drpc::log::warn(limit, "access",
		                "pid " + std::to_string(context.peer.pid) + " uid " + std::to_string(context.peer.uid) +
		                        " gid " + std::to_string(context.peer.gid) + ": call to module " +
		                        format_module_id(context.module) + " (" + drpc::log::untrusted(module_name) +
		                        ") method " + std::to_string(context.method) + " refused: not in modules." +
		                        drpc::log::untrusted(module_name) + ".allow");
	} catch (...) {
		// Out of memory while logging: the call is refused all the same.
	}
	return drpc::Status::FAILURE;
}

} // namespace drpc::host
