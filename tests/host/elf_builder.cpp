// SPDX-License-Identifier: Apache-2.0
// Builds minimal ELF64 images for the ELF reader's tests.
#include "elf_builder.hpp"

#include <bit>

namespace host_test {

Elf64_Ehdr ElfImage::header() const
{
	Elf64_Ehdr header;
	std::memcpy(&header, bytes.data(), sizeof(header));
	return header;
}

void ElfImage::set_header(const Elf64_Ehdr &header) { std::memcpy(bytes.data(), &header, sizeof(header)); }

Elf64_Shdr ElfImage::section(size_t index) const
{
	Elf64_Shdr section;
	std::memcpy(&section, bytes.data() + header().e_shoff + index * sizeof(Elf64_Shdr), sizeof(section));
	return section;
}

void ElfImage::set_section(size_t index, const Elf64_Shdr &section)
{
	std::memcpy(bytes.data() + header().e_shoff + index * sizeof(Elf64_Shdr), &section, sizeof(section));
}

drpc_plugin_info make_info()
{
	drpc_plugin_info info{};
	std::memcpy(info.magic, DRPC_PLUGIN_INFO_MAGIC, sizeof(info.magic));
	info.abi_version = DRPC_PLUGIN_ABI_VERSION;
	info.module_id = 4242;
	std::strcpy(info.name, "good");
	std::strcpy(info.version, "1.2.3");
	return info;
}

ElfImage make_elf(const std::string &contents)
{
	static constexpr char name_table[] = "\0.shstrtab\0" DRPC_PLUGIN_INFO_SECTION;
	const std::string names(name_table, sizeof(name_table)); // the last NUL included
	const size_t names_offset = sizeof(Elf64_Ehdr);
	const size_t info_offset = names_offset + names.size();
	const size_t table_offset = (info_offset + contents.size() + 7) & ~size_t{7};

	ElfImage image;
	image.bytes.assign(table_offset + 3 * sizeof(Elf64_Shdr), 0);

	Elf64_Ehdr header{};
	std::memcpy(header.e_ident, ELFMAG, SELFMAG);
	header.e_ident[EI_CLASS] = ELFCLASS64;
	header.e_ident[EI_DATA] = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
	header.e_ident[EI_VERSION] = EV_CURRENT;
	header.e_type = ET_DYN;
#if defined(__x86_64__)
	header.e_machine = EM_X86_64;
#elif defined(__aarch64__)
	header.e_machine = EM_AARCH64;
#endif
	header.e_version = EV_CURRENT;
	header.e_ehsize = sizeof(Elf64_Ehdr);
	header.e_shoff = table_offset;
	header.e_shentsize = sizeof(Elf64_Shdr);
	header.e_shnum = 3;
	header.e_shstrndx = ElfImage::names_index;
	image.set_header(header);

	std::memcpy(image.bytes.data() + names_offset, names.data(), names.size());
	std::memcpy(image.bytes.data() + info_offset, contents.data(), contents.size());

	Elf64_Shdr names_section{};
	names_section.sh_name = 1;
	names_section.sh_type = SHT_STRTAB;
	names_section.sh_offset = names_offset;
	names_section.sh_size = names.size();
	image.set_section(ElfImage::names_index, names_section);

	Elf64_Shdr info_section{};
	info_section.sh_name = 11;
	info_section.sh_type = SHT_PROGBITS;
	info_section.sh_flags = SHF_ALLOC;
	info_section.sh_offset = info_offset;
	info_section.sh_size = contents.size();
	image.set_section(ElfImage::info_index, info_section);
	return image;
}

ElfImage make_elf(const drpc_plugin_info &info)
{
	return make_elf(std::string(reinterpret_cast<const char *>(&info), sizeof(info)));
}

} // namespace host_test
