// SPDX-License-Identifier: Apache-2.0
// Reading and checking the plugin info record: what the host decides from
// before any plugin code runs.
#include "elf_builder.hpp"
#include "host_support.hpp"

#include <plugin_info.hpp>

#include <drpc/error.hpp>

#include <doctest/doctest.h>

#include <functional>

using host_test::make_elf;
using host_test::make_info;

namespace {

std::string refusal(const std::vector<uint8_t> &image)
{
	try {
		(void)drpc::host::read_plugin_info(image);
	} catch (const drpc::Error &e) {
		return e.what();
	}
	return {};
}

} // namespace

TEST_CASE("plugin info: read from a real plugin file")
{
	const std::string file = host_test::read_file(host_test::test_plugin("good"));
	const drpc_plugin_info info =
		drpc::host::read_plugin_info(std::span(reinterpret_cast<const uint8_t *>(file.data()), file.size()));
	CHECK(info.module_id == 4242);
	CHECK(std::string(info.name) == "good");
	CHECK(std::string(info.version) == "1.2.3");
	CHECK(drpc::host::describe(info) == "module 4242 (good 1.2.3)");
}

TEST_CASE("plugin info: bad records are refused with the reason")
{
	struct Case {
		const char *name;
		std::function<void(drpc_plugin_info &)> edit;
		const char *expected;
	};
	const Case cases[] = {
		{"bad magic", [](drpc_plugin_info &i) { i.magic[0] = 'X'; }, "bad magic"},
		{"ABI 999", [](drpc_plugin_info &i) { i.abi_version = 999; },
	         "plugin ABI version 999, this host speaks 1"},
		{"empty name", [](drpc_plugin_info &i) { i.name[0] = '\0'; }, "name is empty"},
		{"unterminated name", [](drpc_plugin_info &i) { std::memset(i.name, 'a', sizeof(i.name)); },
	         "name is not NUL-terminated"},
		{"name with a slash", [](drpc_plugin_info &i) { std::strcpy(i.name, "a/b"); },
	         "outside [A-Za-z0-9_.-]"},
		{"name with a newline", [](drpc_plugin_info &i) { std::strcpy(i.name, "a\nb"); }, "outside"},
		{"empty version", [](drpc_plugin_info &i) { i.version[0] = '\0'; }, "version is empty"},
		{"unterminated version", [](drpc_plugin_info &i) { std::memset(i.version, '1', sizeof(i.version)); },
	         "version is not NUL-terminated"},
		{"version with a control character", [](drpc_plugin_info &i) { std::strcpy(i.version, "1\x1b[2J"); },
	         "not printable"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			drpc_plugin_info info = make_info();
			c.edit(info);
			CHECK(refusal(make_elf(info).bytes).find(c.expected) != std::string::npos);
		}
	}
}

TEST_CASE("plugin info: section size")
{
	const drpc_plugin_info info = make_info();
	const std::string record(reinterpret_cast<const char *>(&info), sizeof(info));
	SUBCASE("too short for the header")
	{
		CHECK(refusal(make_elf(record.substr(0, 6)).bytes).find("too few") != std::string::npos);
	}
	SUBCASE("truncated record")
	{
		CHECK(refusal(make_elf(record.substr(0, 40)).bytes).find("expected 112") != std::string::npos);
	}
	SUBCASE("padded record")
	{
		CHECK(refusal(make_elf(record + std::string(8, '\0')).bytes).find("holds 120 bytes") !=
		      std::string::npos);
	}
	SUBCASE("another ABI's record size is refused for its version")
	{
		drpc_plugin_info future = info;
		future.abi_version = 2;
		const std::string bigger(reinterpret_cast<const char *>(&future), sizeof(future));
		CHECK(refusal(make_elf(bigger + std::string(64, '\0')).bytes).find("ABI version 2") !=
		      std::string::npos);
	}
	SUBCASE("no section at all")
	{
		host_test::ElfImage image = make_elf(record);
		Elf64_Shdr section = image.section(host_test::ElfImage::info_index);
		section.sh_name = 1; // ".shstrtab"
		image.set_section(host_test::ElfImage::info_index, section);
		CHECK(refusal(image.bytes).find("no .drpc_plugin_info section") != std::string::npos);
	}
}

TEST_CASE("plugin info: module IDs in messages")
{
	CHECK(drpc::host::format_module_id(0) == "0");
	CHECK(drpc::host::format_module_id(1000) == "1000");
	CHECK(drpc::host::format_module_id(0x7FFF0000) == "0x7FFF0000");
	CHECK(drpc::host::format_module_id(-1) == "-1");
}

TEST_CASE("plugin info: error text from a plugin")
{
	drpc_error error{};
	CHECK(drpc::host::plugin_error_text(error) == "no reason given");
	std::memset(error.message, 'x', sizeof(error.message)); // unterminated
	CHECK(drpc::host::plugin_error_text(error).size() == sizeof(error.message));
	std::strcpy(error.message, "two\nlines");
	CHECK(drpc::host::plugin_error_text(error) == "two lines");
}
