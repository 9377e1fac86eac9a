// SPDX-License-Identifier: Apache-2.0
// Ownership and mode checks on files and directories the host trusts.
#include <drpc/lifecycle/file_permissions.hpp>

#include <cstdio>
#include <unistd.h>

namespace drpc::host {

std::string format_mode(mode_t mode)
{
	char text[8];
	std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
	return text;
}

std::optional<std::string> untrusted_because(const struct stat &st)
{
	if (st.st_uid != ::geteuid() && st.st_uid != 0)
		return "owned by uid " + std::to_string(st.st_uid) + ", neither the host's uid " +
		       std::to_string(::geteuid()) + " nor root (plugins.strict_permissions)";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return std::string("writable by ") + ((st.st_mode & S_IWOTH) != 0 ? "others" : "group") + " (mode " +
		       format_mode(st.st_mode) + "; plugins.strict_permissions)";
	return std::nullopt;
}

std::optional<std::string> not_private_because(const struct stat &st)
{
	if (st.st_uid != ::geteuid())
		return "owned by uid " + std::to_string(st.st_uid) + ", not by the host's uid " +
		       std::to_string(::geteuid()) + " (plugins.strict_permissions)";
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return "open to group or others (mode " + format_mode(st.st_mode) +
		       ", expected 0700; plugins.strict_permissions)";
	return std::nullopt;
}

} // namespace drpc::host
