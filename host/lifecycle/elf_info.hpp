// SPDX-License-Identifier: Apache-2.0
/// @file elf_info.hpp
/// A bounds-checked ELF64 section reader, so the host can read a plugin's
/// info record from the file without mapping it as a library.
#pragma once

#include <drpc/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace drpc::host::elf {

/// The image is not a usable ELF64 shared object of this machine, or its
/// headers point outside the file. what() says which check failed.
class ElfError : public drpc::Error {
public:
	enum class Kind {
		not_shared_object, ///< no ELF magic, another class, byte order, machine or type
		malformed,         ///< a header, table or string lies outside the file or contradicts itself
	};
	ElfError(Kind kind, const std::string &what) : drpc::Error(what), kind_(kind) {}
	[[nodiscard]] Kind kind() const noexcept { return kind_; }

private:
	Kind kind_;
};

/// Finds the section called `name` in `image`, the whole contents of a file.
/// Checks that the image is an ELF64 shared object (ET_DYN) of this machine's
/// class, byte order and architecture, and checks every offset and size it
/// follows against the image size before reading through it. Returns the
/// section's bytes (a view into `image`), or nothing when there is no such
/// section. Throws ElfError.
[[nodiscard]] std::optional<std::span<const uint8_t>> find_section(std::span<const uint8_t> image,
                                                                   std::string_view name);

} // namespace drpc::host::elf

namespace drpc::host::elf {

/// The DT_NEEDED entries of `image` (the libraries the dynamic loader would
/// map with it, e.g. "libprotobuf.so.32"), read through .dynamic and
/// .dynstr with every offset checked; empty when it has no .dynamic
/// section. Throws ElfError.
[[nodiscard]] std::vector<std::string> needed_libraries(std::span<const uint8_t> image);

/// How many symbols `image` exports to the dynamic loader: the entries of
/// .dynsym that are defined and global or weak, not hidden; 0 when it has
/// no .dynsym section. Throws ElfError.
[[nodiscard]] size_t exported_symbol_count(std::span<const uint8_t> image);

} // namespace drpc::host::elf
