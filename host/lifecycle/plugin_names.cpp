// SPDX-License-Identifier: Apache-2.0
// Which file names in the plugins directory are plugins.
#include "plugin_names.hpp"

namespace drpc::host {
namespace {

bool ends_with(std::string_view text, std::string_view suffix)
{
	return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

std::optional<std::string> why_not_a_plugin_name(std::string_view name)
{
	if (name.empty() || name.front() == '.')
		return "hidden file";
	if (name.front() == '#' || ends_with(name, "~") || ends_with(name, "#"))
		return "editor's temporary file";
	for (std::string_view marker : {".tmp", ".swp", ".swx", ".part", ".partial", ".new", ".bak"}) {
		if (name.find(marker) != std::string_view::npos)
			return "temporary file";
	}
	if (!ends_with(name, ".so"))
		return "not a .so file";
	return std::nullopt;
}

} // namespace drpc::host
