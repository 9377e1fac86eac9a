// SPDX-License-Identifier: Apache-2.0
// Hex encoding and decoding of call and response bodies.

#include "hex.hpp"

namespace drpc::ctl {

namespace {

int digit_value(char c) noexcept
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool is_separator(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':'; }

} // namespace

std::string to_hex(std::string_view bytes)
{
	static constexpr char digits[] = "0123456789abcdef";
	std::string text;
	text.reserve(bytes.size() * 2);
	for (const char c : bytes) {
		const auto byte = static_cast<unsigned char>(c);
		text.push_back(digits[byte >> 4]);
		text.push_back(digits[byte & 0x0f]);
	}
	return text;
}

std::optional<std::string> from_hex(std::string_view text)
{
	std::string bytes;
	bytes.reserve(text.size() / 2);
	int high = -1;
	for (const char c : text) {
		if (is_separator(c)) {
			// A separator splitting the two digits of one byte is a typo.
			if (high >= 0)
				return std::nullopt;
			continue;
		}
		const int value = digit_value(c);
		if (value < 0)
			return std::nullopt;
		if (high < 0) {
			high = value;
		} else {
			bytes.push_back(static_cast<char>((high << 4) | value));
			high = -1;
		}
	}
	if (high >= 0)
		return std::nullopt;
	return bytes;
}

} // namespace drpc::ctl
