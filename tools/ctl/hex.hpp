// SPDX-License-Identifier: Apache-2.0
/// @file hex.hpp
/// Bytes as hex text and back, for bodies drpc-ctl has no message type for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drpc::ctl {

/// Lower-case hex, two digits per byte, no separators.
[[nodiscard]] std::string to_hex(std::string_view bytes);

/// Decodes hex digits of either case; whitespace and ':' between bytes are
/// ignored ("0a 06", "0a:06"). Nothing when a character is not a hex digit
/// or a byte is left with one digit.
[[nodiscard]] std::optional<std::string> from_hex(std::string_view text);

} // namespace drpc::ctl
