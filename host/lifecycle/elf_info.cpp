// SPDX-License-Identifier: Apache-2.0
// The ELF64 section reader: every number read from the file is distrusted
// until checked against the size of the image.
#include "elf_info.hpp"

#include <elf.h>

#include <bit>
#include <cstring>

namespace drpc::host::elf {
namespace {

constexpr unsigned char native_data = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;

#if defined(__x86_64__)
constexpr std::optional<uint16_t> native_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr std::optional<uint16_t> native_machine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr std::optional<uint16_t> native_machine = EM_PPC64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::optional<uint16_t> native_machine = EM_RISCV;
#elif defined(__s390x__)
constexpr std::optional<uint16_t> native_machine = EM_S390;
#else
// Unknown here: dlopen() still refuses a foreign architecture later.
constexpr std::optional<uint16_t> native_machine;
#endif

[[noreturn]] void not_shared_object(const std::string &why)
{
	throw ElfError(ElfError::Kind::not_shared_object, "not a shared object: " + why);
}

[[noreturn]] void malformed(const std::string &why)
{
	throw ElfError(ElfError::Kind::malformed, "malformed ELF file: " + why);
}

/// True when [offset, offset + size) lies inside an image of `image_size` bytes.
bool fits(uint64_t offset, uint64_t size, size_t image_size) noexcept
{
	return offset <= image_size && size <= image_size - offset;
}

template <class T> T read_at(std::span<const uint8_t> image, uint64_t offset, const char *what)
{
	if (!fits(offset, sizeof(T), image.size()))
		malformed(std::string(what) + " at offset " + std::to_string(offset) +
		          " lies past the end of the file (" + std::to_string(image.size()) + " bytes)");
	T value;
	std::memcpy(&value, image.data() + offset, sizeof(T)); // the image need not be aligned
	return value;
}

Elf64_Ehdr read_file_header(std::span<const uint8_t> image)
{
	if (image.size() < SELFMAG || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0)
		not_shared_object("no ELF magic");
	if (image.size() < EI_NIDENT)
		malformed("file ends inside the ELF identification");
	if (image[EI_CLASS] != ELFCLASS64)
		not_shared_object("not a 64-bit ELF file (class " + std::to_string(image[EI_CLASS]) + ")");
	if (image[EI_DATA] != native_data)
		not_shared_object("ELF byte order " + std::to_string(image[EI_DATA]) + " is not this machine's");
	const auto header = read_at<Elf64_Ehdr>(image, 0, "ELF header");
	if (header.e_type != ET_DYN)
		not_shared_object("ELF type " + std::to_string(header.e_type) + " is not ET_DYN");
	if (native_machine && header.e_machine != *native_machine)
		not_shared_object("built for ELF machine " + std::to_string(header.e_machine) + ", this host is " +
		                  std::to_string(*native_machine));
	if (header.e_ehsize < sizeof(Elf64_Ehdr))
		malformed("ELF header size " + std::to_string(header.e_ehsize) + " is too small");
	return header;
}

/// The section header table, checked to lie inside the image.
struct SectionTable {
	uint64_t offset = 0;
	uint64_t count = 0;
	uint64_t string_index = 0;

	[[nodiscard]] Elf64_Shdr at(std::span<const uint8_t> image, uint64_t index) const
	{
		return read_at<Elf64_Shdr>(image, offset + index * sizeof(Elf64_Shdr), "section header");
	}
};

SectionTable read_section_table(std::span<const uint8_t> image, const Elf64_Ehdr &header)
{
	if (header.e_shoff == 0)
		malformed("no section header table");
	if (header.e_shentsize != sizeof(Elf64_Shdr))
		malformed("section header size " + std::to_string(header.e_shentsize) + ", expected " +
		          std::to_string(sizeof(Elf64_Shdr)));

	SectionTable table{header.e_shoff, header.e_shnum, header.e_shstrndx};
	// With 0xff00 or more sections the real count and string table index live
	// in section 0 (the ELF "extended numbering").
	if (table.count == 0 || table.string_index == SHN_XINDEX) {
		const Elf64_Shdr first = table.at(image, 0);
		if (table.count == 0)
			table.count = first.sh_size;
		if (table.string_index == SHN_XINDEX)
			table.string_index = first.sh_link;
	}
	if (table.count == 0)
		malformed("the section header table is empty");
	if (table.count > image.size() / sizeof(Elf64_Shdr) ||
	    !fits(table.offset, table.count * sizeof(Elf64_Shdr), image.size()))
		malformed(std::to_string(table.count) + " section headers at offset " + std::to_string(table.offset) +
		          " do not fit in the file (" + std::to_string(image.size()) + " bytes)");
	if (table.string_index == SHN_UNDEF || table.string_index >= table.count)
		malformed("section name table index " + std::to_string(table.string_index) + " is out of range");
	return table;
}

/// The bytes of a section that occupies file space.
std::span<const uint8_t> contents(std::span<const uint8_t> image, const Elf64_Shdr &section, const char *what)
{
	if (section.sh_type == SHT_NOBITS)
		malformed(std::string(what) + " has no contents in the file");
	if (!fits(section.sh_offset, section.sh_size, image.size()))
		malformed(std::string(what) + " (" + std::to_string(section.sh_size) + " bytes at offset " +
		          std::to_string(section.sh_offset) + ") lies past the end of the file (" +
		          std::to_string(image.size()) + " bytes)");
	return image.subspan(section.sh_offset, section.sh_size);
}

/// The NUL-terminated name at `offset` in the section name table.
std::string_view section_name(std::span<const uint8_t> names, uint64_t offset)
{
	if (offset >= names.size())
		malformed("section name offset " + std::to_string(offset) + " is outside the name table (" +
		          std::to_string(names.size()) + " bytes)");
	const auto *start = reinterpret_cast<const char *>(names.data() + offset);
	const size_t room = names.size() - offset;
	const void *end = std::memchr(start, '\0', room);
	if (end == nullptr)
		malformed("section name at offset " + std::to_string(offset) + " is not NUL-terminated");
	return {start, static_cast<size_t>(static_cast<const char *>(end) - start)};
}

} // namespace

std::optional<std::span<const uint8_t>> find_section(std::span<const uint8_t> image, std::string_view name)
{
	const Elf64_Ehdr header = read_file_header(image);
	const SectionTable table = read_section_table(image, header);

	const Elf64_Shdr names_header = table.at(image, table.string_index);
	if (names_header.sh_type != SHT_STRTAB)
		malformed("the section name table has type " + std::to_string(names_header.sh_type) +
		          ", expected SHT_STRTAB");
	const std::span<const uint8_t> names = contents(image, names_header, "the section name table");

	std::optional<std::span<const uint8_t>> found;
	const std::string quoted = "section " + std::string(name);
	for (uint64_t i = 1; i < table.count; ++i) {
		const Elf64_Shdr section = table.at(image, i);
		if (section_name(names, section.sh_name) != name)
			continue;
		// The linker merges input sections of one name; two are a forgery.
		if (found)
			malformed("two sections are named " + std::string(name));
		found = contents(image, section, quoted.c_str());
	}
	return found;
}

} // namespace drpc::host::elf

namespace drpc::host::elf {

std::vector<std::string> needed_libraries(std::span<const uint8_t> image)
{
	const auto dynamic = find_section(image, ".dynamic");
	if (!dynamic)
		return {};
	const auto strings = find_section(image, ".dynstr");
	if (!strings)
		malformed(".dynamic section without .dynstr");
	if (dynamic->size() % sizeof(Elf64_Dyn) != 0)
		malformed(".dynamic section size " + std::to_string(dynamic->size()) + " is not a multiple of " +
		          std::to_string(sizeof(Elf64_Dyn)));
	std::vector<std::string> needed;
	for (size_t offset = 0; offset < dynamic->size(); offset += sizeof(Elf64_Dyn)) {
		const auto entry = read_at<Elf64_Dyn>(*dynamic, offset, ".dynamic entry");
		if (entry.d_tag == DT_NULL)
			break;
		if (entry.d_tag != DT_NEEDED)
			continue;
		const uint64_t name = entry.d_un.d_val;
		if (name >= strings->size())
			malformed("DT_NEEDED name at offset " + std::to_string(name) + " lies past .dynstr (" +
			          std::to_string(strings->size()) + " bytes)");
		const auto *begin = reinterpret_cast<const char *>(strings->data()) + name;
		const void *end = std::memchr(begin, '\0', strings->size() - name);
		if (end == nullptr)
			malformed("DT_NEEDED name at offset " + std::to_string(name) + " is not NUL-terminated");
		needed.emplace_back(begin, static_cast<const char *>(end));
	}
	return needed;
}

size_t exported_symbol_count(std::span<const uint8_t> image)
{
	const auto symbols = find_section(image, ".dynsym");
	if (!symbols)
		return 0;
	if (symbols->size() % sizeof(Elf64_Sym) != 0)
		malformed(".dynsym section size " + std::to_string(symbols->size()) + " is not a multiple of " +
		          std::to_string(sizeof(Elf64_Sym)));
	size_t count = 0;
	// Entry 0 is the null symbol.
	for (size_t offset = sizeof(Elf64_Sym); offset < symbols->size(); offset += sizeof(Elf64_Sym)) {
		const auto symbol = read_at<Elf64_Sym>(*symbols, offset, ".dynsym entry");
		const unsigned binding = ELF64_ST_BIND(symbol.st_info);
		const bool visible = ELF64_ST_VISIBILITY(symbol.st_other) != STV_HIDDEN &&
		                     ELF64_ST_VISIBILITY(symbol.st_other) != STV_INTERNAL;
		if (symbol.st_shndx != SHN_UNDEF && (binding == STB_GLOBAL || binding == STB_WEAK) && visible)
			++count;
	}
	return count;
}

} // namespace drpc::host::elf
