// SPDX-License-Identifier: Apache-2.0
// The ELF section reader on real plugin files, on minimal images and on
// hostile ones: truncated, garbage, not ELF, offsets and counts past the end.
#include "elf_builder.hpp"
#include "host_support.hpp"

#include <elf_info.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <limits>

using drpc::host::elf::ElfError;
using drpc::host::elf::find_section;
using host_test::ElfImage;

namespace {

std::span<const uint8_t> bytes_of(const std::string &text)
{
	return {reinterpret_cast<const uint8_t *>(text.data()), text.size()};
}

/// The exception find_section throws on `image`, or "" when it does not.
std::string failure(std::span<const uint8_t> image, ElfError::Kind *kind = nullptr)
{
	try {
		(void)find_section(image, DRPC_PLUGIN_INFO_SECTION);
	} catch (const ElfError &e) {
		if (kind != nullptr)
			*kind = e.kind();
		return e.what();
	}
	return {};
}

} // namespace

TEST_CASE("elf: finds the info section of a real plugin")
{
	const std::string file = host_test::read_file(host_test::test_plugin("good"));
	const auto section = find_section(bytes_of(file), DRPC_PLUGIN_INFO_SECTION);
	REQUIRE(section.has_value());
	REQUIRE(section->size() == sizeof(drpc_plugin_info));
	drpc_plugin_info info;
	std::memcpy(&info, section->data(), sizeof(info));
	CHECK(info.module_id == 4242);
	CHECK(std::string(info.name) == "good");
	CHECK_FALSE(find_section(bytes_of(file), ".no_such_section").has_value());
}

TEST_CASE("elf: a minimal image")
{
	const ElfImage image = host_test::make_elf(host_test::make_info());
	const auto section = find_section(image.bytes, DRPC_PLUGIN_INFO_SECTION);
	REQUIRE(section.has_value());
	CHECK(section->size() == sizeof(drpc_plugin_info));
	CHECK(find_section(image.bytes, ".shstrtab").has_value());
}

TEST_CASE("elf: files that are not ELF shared objects")
{
	struct Case {
		const char *name;
		std::string bytes;
		const char *expected;
	};
	const Case cases[] = {
		{"empty", "", "no ELF magic"},
		{"text", "this is not a plugin\n", "no ELF magic"},
		{"three bytes of magic",
	         "\x7f"
	         "EL",
	         "no ELF magic"},
		{"magic only",
	         "\x7f"
	         "ELF",
	         "malformed"},
		{"32-bit",
	         std::string("\x7f"
	                     "ELF\x01\x01\x01",
	                     7) +
	                 std::string(57, '\0'),
	         "not a 64-bit ELF"},
		{"other byte order",
	         std::string("\x7f"
	                     "ELF\x02\x02\x01",
	                     7) +
	                 std::string(57, '\0'),
	         "byte order"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name) { CHECK(failure(bytes_of(c.bytes)).find(c.expected) != std::string::npos); }
	}
}

TEST_CASE("elf: an executable, a foreign machine")
{
	ElfImage image = host_test::make_elf(host_test::make_info());
	Elf64_Ehdr header = image.header();
	ElfError::Kind kind{};
	SUBCASE("ET_EXEC")
	{
		header.e_type = ET_EXEC;
		image.set_header(header);
		CHECK(failure(image.bytes, &kind).find("ELF type 2 is not ET_DYN") != std::string::npos);
		CHECK(kind == ElfError::Kind::not_shared_object);
	}
	SUBCASE("another machine")
	{
		header.e_machine = EM_SPARCV9;
		image.set_header(header);
		CHECK(failure(image.bytes, &kind).find("ELF machine") != std::string::npos);
		CHECK(kind == ElfError::Kind::not_shared_object);
	}
}

TEST_CASE("elf: hostile headers are refused, never followed")
{
	using Edit = std::function<void(ElfImage &)>;
	const auto edit_header = [](auto change) {
		return Edit([change](ElfImage &image) {
			Elf64_Ehdr header = image.header();
			change(header);
			image.set_header(header);
		});
	};
	const auto edit_section = [](size_t index, auto change) {
		return Edit([index, change](ElfImage &image) {
			Elf64_Shdr section = image.section(index);
			change(section);
			image.set_section(index, section);
		});
	};
	constexpr uint64_t huge = std::numeric_limits<uint64_t>::max() - 8;
	struct Case {
		const char *name;
		Edit edit;
		const char *expected;
	};
	const Case cases[] = {
		{"no section table", edit_header([](Elf64_Ehdr &h) { h.e_shoff = 0; }), "no section header table"},
		{"table offset past the end", edit_header([](Elf64_Ehdr &h) { h.e_shoff = huge; }), "do not fit"},
		{"table offset wraps",
	         edit_header([](Elf64_Ehdr &h) { h.e_shoff = std::numeric_limits<uint64_t>::max(); }), "do not fit"},
		{"too many sections", edit_header([](Elf64_Ehdr &h) { h.e_shnum = 0xfeff; }), "do not fit"},
		{"wrong entry size", edit_header([](Elf64_Ehdr &h) { h.e_shentsize = 32; }), "section header size 32"},
		{"small header size", edit_header([](Elf64_Ehdr &h) { h.e_ehsize = 10; }), "ELF header size 10"},
		{"name table index out of range", edit_header([](Elf64_Ehdr &h) { h.e_shstrndx = 7; }),
	         "name table index 7"},
		{"name table index zero", edit_header([](Elf64_Ehdr &h) { h.e_shstrndx = 0; }), "name table index 0"},
		{"name table not a string table",
	         edit_section(ElfImage::names_index, [](Elf64_Shdr &s) { s.sh_type = SHT_PROGBITS; }), "SHT_STRTAB"},
		{"name table past the end",
	         edit_section(ElfImage::names_index, [](Elf64_Shdr &s) { s.sh_size = huge; }), "past the end"},
		{"name offset past the table",
	         edit_section(ElfImage::info_index, [](Elf64_Shdr &s) { s.sh_name = 1000000; }),
	         "outside the name table"},
		{"name not terminated", edit_section(ElfImage::names_index, [](Elf64_Shdr &s) { s.sh_size = 14; }),
	         "not NUL-terminated"},
		{"section offset past the end",
	         edit_section(ElfImage::info_index, [](Elf64_Shdr &s) { s.sh_offset = huge; }), "past the end"},
		{"section size past the end",
	         edit_section(ElfImage::info_index, [](Elf64_Shdr &s) { s.sh_size = 1 << 20; }), "past the end"},
		{"section without contents",
	         edit_section(ElfImage::info_index, [](Elf64_Shdr &s) { s.sh_type = SHT_NOBITS; }), "no contents"},
		{"two info sections", edit_section(ElfImage::names_index, [](Elf64_Shdr &s) { s.sh_name = 11; }),
	         "two sections are named"},
		{"extended numbering with a huge count",
	         [](ElfImage &image) {
			 Elf64_Ehdr header = image.header();
			 header.e_shnum = 0;
			 image.set_header(header);
			 Elf64_Shdr first{};
			 first.sh_size = huge;
			 image.set_section(0, first);
		 },
	         "do not fit"},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			ElfImage image = host_test::make_elf(host_test::make_info());
			c.edit(image);
			const std::string error = failure(image.bytes);
			INFO("error: ", error);
			CHECK(error.find(c.expected) != std::string::npos);
		}
	}
}

TEST_CASE("elf: extended section numbering is followed")
{
	ElfImage image = host_test::make_elf(host_test::make_info());
	Elf64_Ehdr header = image.header();
	header.e_shnum = 0;
	header.e_shstrndx = SHN_XINDEX;
	image.set_header(header);
	Elf64_Shdr first{};
	first.sh_size = 3;
	first.sh_link = ElfImage::names_index;
	image.set_section(0, first);
	CHECK(find_section(image.bytes, DRPC_PLUGIN_INFO_SECTION).has_value());
}

TEST_CASE("elf: every truncation of a real plugin is refused or read within bounds")
{
	const std::string file = host_test::read_file(host_test::test_plugin("good"));
	// The section table sits at the end: every cut before it must fail cleanly.
	size_t refused = 0;
	for (size_t length = 0; length < file.size(); length += (length < 4096 ? 1 : 997)) {
		// A copy of exactly `length` bytes, so that reading past it is an
		// error the sanitizers see.
		const std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length));
		if (!failure(cut).empty())
			++refused;
	}
	CHECK(refused > 0);
	const std::vector<uint8_t> all_but_one(file.begin(), file.end() - 1);
	CHECK_FALSE(failure(all_but_one).empty());
}

TEST_CASE("elf: random garbage after a valid identification never crashes")
{
	ElfImage image = host_test::make_elf(host_test::make_info());
	uint32_t state = 12345;
	for (int round = 0; round < 2000; ++round) {
		std::vector<uint8_t> bytes = image.bytes;
		for (int flips = 0; flips < 8; ++flips) {
			state = state * 1664525u + 1013904223u;
			bytes[(state >> 8) % bytes.size()] = static_cast<uint8_t>(state >> 24);
		}
		try {
			(void)find_section(bytes, DRPC_PLUGIN_INFO_SECTION);
		} catch (const ElfError &) {
		}
	}
	CHECK(true);
}
