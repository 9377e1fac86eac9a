// SPDX-License-Identifier: Apache-2.0
/// @file elf_builder.hpp
/// A minimal ELF64 shared-object image built in memory (null section, a
/// section name table, a .drpc_plugin_info section), for feeding the ELF
/// reader well-formed and hostile inputs.
#pragma once

#include <drpc/plugin.h>

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace host_test {

struct ElfImage {
	std::vector<uint8_t> bytes;
	/// Section indexes.
	static constexpr size_t names_index = 1;
	static constexpr size_t info_index = 2;

	[[nodiscard]] Elf64_Ehdr header() const;
	void set_header(const Elf64_Ehdr &header);
	[[nodiscard]] Elf64_Shdr section(size_t index) const;
	void set_section(size_t index, const Elf64_Shdr &section);
};

/// A valid plugin info record (ID 4242, "good", "1.2.3").
[[nodiscard]] drpc_plugin_info make_info();

/// An image whose info section holds `contents`.
[[nodiscard]] ElfImage make_elf(const std::string &contents);
[[nodiscard]] ElfImage make_elf(const drpc_plugin_info &info);

} // namespace host_test
