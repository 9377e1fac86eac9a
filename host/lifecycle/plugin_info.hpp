// SPDX-License-Identifier: Apache-2.0
/// @file plugin_info.hpp
/// Reading and checking a plugin's struct drpc_plugin_info, the record the host
/// trusts before any of the plugin's code has run.
#pragma once

#include <drpc/lifecycle/module_record.hpp>
#include <drpc/plugin.h>

#include <cstdint>
#include <span>
#include <string>

namespace drpc::host {

/// Reads the DRPC_PLUGIN_INFO_SECTION record from `image` (a whole plugin
/// file) and checks it: magic, ABI version, size, NUL-terminated text fields,
/// a name of [A-Za-z0-9_.-]+ and a printable version. Throws elf::ElfError
/// (not an ELF shared object, malformed) or drpc::Error (no record, bad
/// record), each saying which check failed.
[[nodiscard]] drpc_plugin_info read_plugin_info(std::span<const uint8_t> image);

/// Checks an info record already in memory (the same checks as above, bar
/// the ELF ones). Throws drpc::Error.
void check_plugin_info(const drpc_plugin_info &info);

/// The message a plugin wrote into `error`, even when it left it unterminated
/// or empty.
[[nodiscard]] std::string plugin_error_text(const drpc_error &error);

/// "module 1000 (echo 1.0.0)", for log lines.
[[nodiscard]] std::string describe(const drpc_plugin_info &info);

} // namespace drpc::host
