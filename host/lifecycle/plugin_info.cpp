// SPDX-License-Identifier: Apache-2.0
// Checks of a plugin's info record: what the host knows of a plugin before
// deciding whether to map it.
#include "plugin_info.hpp"

#include "elf_info.hpp"

#include <drpc/error.hpp>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace drpc::host {
namespace {

/// The text in `field`, which must be NUL-terminated inside the array.
template <size_t N> std::string_view text_field(const char (&field)[N], const char *what)
{
	const void *end = std::memchr(field, '\0', N);
	if (end == nullptr)
		throw drpc::Error(std::string("plugin info: ") + what + " is not NUL-terminated");
	const auto text = std::string_view(field, static_cast<size_t>(static_cast<const char *>(end) - field));
	if (text.empty())
		throw drpc::Error(std::string("plugin info: ") + what + " is empty");
	return text;
}

bool is_name_char(char c) noexcept
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

/// The two fields every ABI version has in the same place.
void check_magic_and_abi(const drpc_plugin_info &info)
{
	if (std::memcmp(info.magic, DRPC_PLUGIN_INFO_MAGIC, sizeof(info.magic)) != 0)
		throw drpc::Error("plugin info: bad magic (expected \"" DRPC_PLUGIN_INFO_MAGIC "\")");
	if (info.abi_version != DRPC_PLUGIN_ABI_VERSION)
		throw drpc::Error("plugin ABI version " + std::to_string(info.abi_version) + ", this host speaks " +
		                  std::to_string(DRPC_PLUGIN_ABI_VERSION));
}

} // namespace

void check_plugin_info(const drpc_plugin_info &info)
{
	check_magic_and_abi(info);
	const std::string_view name = text_field(info.name, "name");
	for (char c : name) {
		if (!is_name_char(c))
			throw drpc::Error("plugin info: name has a character outside [A-Za-z0-9_.-]");
	}
	// The version ends up in log lines: keep it to printable ASCII.
	for (char c : text_field(info.version, "version")) {
		if (c < 0x20 || c > 0x7e)
			throw drpc::Error("plugin info: version has a character that is not printable ASCII");
	}
}

drpc_plugin_info read_plugin_info(std::span<const uint8_t> image)
{
	const auto section = elf::find_section(image, DRPC_PLUGIN_INFO_SECTION);
	if (!section)
		throw drpc::Error("no " DRPC_PLUGIN_INFO_SECTION " section: not a drpc plugin");

	// Magic and ABI version come first so that a plugin of another ABI, whose
	// record may have another size, is refused for its version.
	constexpr size_t header_bytes = offsetof(drpc_plugin_info, abi_version) + sizeof(uint32_t);
	if (section->size() < header_bytes)
		throw drpc::Error(DRPC_PLUGIN_INFO_SECTION " holds " + std::to_string(section->size()) +
		                  " bytes, too few for a plugin info record");
	drpc_plugin_info info{};
	std::memcpy(&info, section->data(), header_bytes);
	check_magic_and_abi(info);
	if (section->size() != sizeof(info))
		throw drpc::Error(DRPC_PLUGIN_INFO_SECTION " holds " + std::to_string(section->size()) +
		                  " bytes, expected " + std::to_string(sizeof(info)));
	std::memcpy(&info, section->data(), sizeof(info));
	check_plugin_info(info);
	return info;
}

std::string plugin_error_text(const drpc_error &error)
{
	const void *end = std::memchr(error.message, '\0', sizeof(error.message));
	const size_t length = end == nullptr ? sizeof(error.message)
	                                     : static_cast<size_t>(static_cast<const char *>(end) - error.message);
	if (length == 0)
		return "no reason given";
	std::string text(error.message, length);
	// It goes into a one-line log record.
	for (char &c : text) {
		if (c == '\n' || c == '\r')
			c = ' ';
	}
	return text;
}

std::string format_module_id(int32_t id)
{
	if (id < 0x10000000)
		return std::to_string(id);
	char text[16];
	std::snprintf(text, sizeof(text), "0x%08X", static_cast<unsigned>(id));
	return text;
}

std::string describe(const drpc_plugin_info &info)
{
	// The record has been checked: both texts are NUL-terminated.
	return "module " + format_module_id(info.module_id) + " (" + info.name + " " + info.version + ")";
}

} // namespace drpc::host
