// SPDX-License-Identifier: Apache-2.0
// The hand-written codec against protobuf's own generated classes: the same
// bytes out, the same values in, the same inputs refused, and no crash on
// mangled input.
#include <drpc/codec.hpp>
#include <drpc/status.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using drpc::codec::CallView;
using drpc::codec::ResponseView;

std::string bytes(std::initializer_list<int> values)
{
	std::string out;
	for (int v : values)
		out.push_back(static_cast<char>(v));
	return out;
}

drpc::Call make_call(int32_t module, int32_t method, int64_t sequence, const std::string &body)
{
	drpc::Call call;
	call.set_module(module);
	call.set_method(method);
	call.set_sequence(sequence);
	call.set_body(body);
	return call;
}

drpc::Response make_response(int64_t sequence, drpc::Status status, const std::string &body)
{
	drpc::Response response;
	response.set_sequence(sequence);
	response.set_status(status);
	response.set_body(body);
	return response;
}

drpc::Status status_of(int value) { return static_cast<drpc::Status>(value); }

std::string pattern(size_t size)
{
	std::string out(size, '\0');
	for (size_t i = 0; i < size; ++i)
		out[i] = static_cast<char>(i * 131 + 7);
	return out;
}

std::string encode_view(const CallView &view)
{
	std::string out(drpc::codec::encoded_size(view), '\0');
	auto *end = drpc::codec::encode_to(view, reinterpret_cast<uint8_t *>(out.data()));
	CHECK(end == reinterpret_cast<uint8_t *>(out.data()) + out.size());
	return out;
}

std::string encode_view(const ResponseView &view)
{
	std::string out(drpc::codec::encoded_size(view), '\0');
	auto *end = drpc::codec::encode_to(view, reinterpret_cast<uint8_t *>(out.data()));
	CHECK(end == reinterpret_cast<uint8_t *>(out.data()) + out.size());
	return out;
}

/// Our decoders accept exactly what protobuf's generated classes accept, with
/// the same values.
void check_agrees_with_protobuf(std::string_view input)
{
	drpc::Call call;
	const bool call_parsed = call.ParseFromArray(input.data(), static_cast<int>(input.size()));
	const auto call_view = drpc::codec::decode_call(input);
	CHECK(call_view.has_value() == call_parsed);
	if (call_parsed && call_view) {
		CHECK(call_view->module == call.module());
		CHECK(call_view->method == call.method());
		CHECK(call_view->sequence == call.sequence());
		CHECK(call_view->body == call.body());
	}
	drpc::Response response;
	const bool response_parsed = response.ParseFromArray(input.data(), static_cast<int>(input.size()));
	const auto response_view = drpc::codec::decode_response(input);
	CHECK(response_view.has_value() == response_parsed);
	if (response_parsed && response_view) {
		CHECK(response_view->sequence == response.sequence());
		CHECK(response_view->status == response.status());
		CHECK(response_view->body == response.body());
	}
}

constexpr int64_t int64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t int64_min = std::numeric_limits<int64_t>::min();
constexpr int32_t int32_max = std::numeric_limits<int32_t>::max();
constexpr int32_t int32_min = std::numeric_limits<int32_t>::min();

} // namespace

TEST_CASE("codec: a Call encodes exactly as protobuf encodes it")
{
	struct Case {
		const char *name;
		int32_t module;
		int32_t method;
		int64_t sequence;
		std::string body;
	};
	const std::vector<Case> cases = {
		{"defaults", 0, 0, 0, ""},
		{"hello", 0, 0, 1, "\x0a\x05world"},
		{"negative module and method", -1, int32_min, 2, "x"},
		{"int32 extremes", int32_max, int32_min, 3, ""},
		{"max sequence", 7, 8, int64_max, ""},
		{"min sequence", 7, 8, int64_min, "b"},
		{"sequence -1", 1, 1, -1, ""},
		{"body only", 0, 0, 0, "only a body"},
		{"body of 127", 1, 2, 3, pattern(127)},
		{"body of 128", 1, 2, 3, pattern(128)},
		{"large body", 5, 6, 1 << 30, pattern(300000)},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const drpc::Call call = make_call(c.module, c.method, c.sequence, c.body);
			const std::string expected = call.SerializeAsString();
			CHECK(drpc::codec::encode(call) == expected);
			const CallView view{c.module, c.method, c.sequence, c.body};
			CHECK(drpc::codec::encoded_size(view) == expected.size());
			CHECK(encode_view(view) == expected);

			const auto decoded = drpc::codec::decode_call(expected);
			REQUIRE(decoded);
			CHECK(decoded->module == c.module);
			CHECK(decoded->method == c.method);
			CHECK(decoded->sequence == c.sequence);
			CHECK(decoded->body == c.body);
			const auto message = drpc::codec::to_call(expected);
			REQUIRE(message);
			CHECK(message->SerializeAsString() == expected);
		}
	}
}

TEST_CASE("codec: a Response encodes exactly as protobuf encodes it")
{
	struct Case {
		const char *name;
		int64_t sequence;
		int status;
		std::string body;
	};
	const std::vector<Case> cases = {
		{"defaults", 0, 0, ""},
		{"success with body", 1, 0, "\x0a\x0bHello world"},
		{"failure", 2, 2, ""},
		{"unmarshal call", -1, 5, ""},
		{"every named status", 3, 7, ""},
		{"unnamed status 42", 4, 42, ""},
		{"negative status", 5, -3, ""},
		{"int32 min status", 6, int32_min, ""},
		{"max sequence", int64_max, 1, "z"},
		{"min sequence", int64_min, 0, ""},
		{"body of 16384", 9, 0, pattern(16384)},
		{"large body", 10, 0, pattern(1 << 20)},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const drpc::Response response = make_response(c.sequence, status_of(c.status), c.body);
			const std::string expected = response.SerializeAsString();
			CHECK(drpc::codec::encode(response) == expected);
			const ResponseView view{c.sequence, status_of(c.status), c.body};
			CHECK(drpc::codec::encoded_size(view) == expected.size());
			CHECK(encode_view(view) == expected);

			const auto decoded = drpc::codec::decode_response(expected);
			REQUIRE(decoded);
			CHECK(decoded->sequence == c.sequence);
			CHECK(static_cast<int>(decoded->status) == c.status);
			CHECK(decoded->body == c.body);
			const auto message = drpc::codec::to_response(expected);
			REQUIRE(message);
			CHECK(message->SerializeAsString() == expected);
		}
	}
}

TEST_CASE("codec: encodings match bytes worked out by hand (protoc --encode)")
{
	// echo 'module: -1 method: 2 sequence: 9223372036854775807 body: "ab"' |
	//   protoc --encode=drpc.Call proto/drpc.proto
	const std::string call =
		bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x02, 0x18,
	               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x22, 0x02, 'a',  'b'});
	CHECK(drpc::codec::encode(make_call(-1, 2, int64_max, "ab")) == call);
	CHECK(drpc::codec::encode(make_call(0, 0, 0, "")).empty());
	// sequence 300, status FAILURE (2), body "hi"
	CHECK(drpc::codec::encode(make_response(300, drpc::Status::FAILURE, "hi")) ==
	      bytes({0x08, 0xac, 0x02, 0x10, 0x02, 0x1a, 0x02, 'h', 'i'}));
	// status -1: ten bytes, sign-extended like every negative int32 and enum
	CHECK(drpc::codec::encode(make_response(0, status_of(-1), "")) ==
	      bytes({0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST_CASE("codec: decoding follows protobuf's tolerance rules")
{
	struct Case {
		const char *name;
		std::string input;
		int32_t module;
		int32_t method;
		int64_t sequence;
		std::string body;
	};
	const std::string group_with_content =
		bytes({0x2b, 0x08, 0x01, 0x12, 0x01, 'x', 0x1b, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x1c, 0x2c});
	const std::vector<Case> cases = {
		{"fields out of order", bytes({0x22, 0x01, 'b', 0x18, 0x03, 0x10, 0x02, 0x08, 0x01}), 1, 2, 3, "b"},
		{"repeated scalars: the last wins", bytes({0x08, 0x01, 0x08, 0x07, 0x18, 0x05, 0x18, 0x09}), 7, 0, 9,
	         ""},
		{"repeated body: the last wins", bytes({0x22, 0x01, 'a', 0x22, 0x02, 'b', 'c'}), 0, 0, 0, "bc"},
		{"unknown varint", bytes({0x08, 0x01, 0x28, 0x96, 0x01, 0x10, 0x02}), 1, 2, 0, ""},
		{"unknown fixed64", bytes({0x29, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x02}), 0, 2, 0, ""},
		{"unknown length-delimited", bytes({0x32, 0x03, 'a', 'b', 'c', 0x18, 0x04}), 0, 0, 4, ""},
		{"unknown fixed32", bytes({0x3d, 1, 2, 3, 4, 0x08, 0x05}), 5, 0, 0, ""},
		{"unknown group with nested content", group_with_content + bytes({0x08, 0x06}), 6, 0, 0, ""},
		{"unknown empty group", bytes({0x43, 0x44, 0x10, 0x01}), 0, 1, 0, ""},
		{"large unknown field number", bytes({0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x08, 0x02}), 2, 0, 0, ""},
		{"known field as fixed32", bytes({0x0d, 1, 0, 0, 0, 0x10, 0x03}), 0, 3, 0, ""},
		{"known field as length-delimited", bytes({0x0a, 0x01, 0x05, 0x18, 0x04}), 0, 0, 4, ""},
		{"body as varint", bytes({0x20, 0x05, 0x08, 0x01}), 1, 0, 0, ""},
		{"known field as group", bytes({0x0b, 0x08, 0x09, 0x0c, 0x10, 0x02}), 0, 2, 0, ""},
		{"int32 keeps the low 32 bits", bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x10}), 0, 0, 0, ""},
		{"int32 from a 64-bit value", bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0x7f}), -1, 0, 0, ""},
		{"ten-byte varint", bytes({0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), 0, 0,
	         int64_min, ""},
		{"non-minimal varint", bytes({0x08, 0x81, 0x80, 0x00}), 1, 0, 0, ""},
		{"explicit zero", bytes({0x08, 0x00, 0x22, 0x00}), 0, 0, 0, ""},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			drpc::Call reference;
			REQUIRE_MESSAGE(reference.ParseFromString(c.input), "protobuf itself refuses this case");
			const auto decoded = drpc::codec::decode_call(c.input);
			REQUIRE(decoded);
			CHECK(decoded->module == c.module);
			CHECK(decoded->method == c.method);
			CHECK(decoded->sequence == c.sequence);
			CHECK(decoded->body == c.body);
			// and protobuf agrees on every value
			CHECK(reference.module() == c.module);
			CHECK(reference.method() == c.method);
			CHECK(reference.sequence() == c.sequence);
			CHECK(reference.body() == c.body);
		}
	}
}

TEST_CASE("codec: a Response decodes with the same tolerance")
{
	const std::string input =
		bytes({0x1a, 0x01, 'a', 0x10, 0x2a, 0x2b, 0x08, 0x01, 0x2c, 0x08, 0x07, 0x08, 0x09, 0x3d, 1,
	               2,    3,    4,   0x19, 1,    2,    3,    4,    5,    6,    7,    8,    0x12, 0x00});
	drpc::Response reference;
	REQUIRE(reference.ParseFromString(input));
	const auto decoded = drpc::codec::decode_response(input);
	REQUIRE(decoded);
	CHECK(decoded->sequence == 9);
	CHECK(static_cast<int>(decoded->status) == 42);
	CHECK(decoded->body == "a");
	CHECK(reference.sequence() == 9);
	CHECK(static_cast<int>(reference.status()) == 42);
	CHECK(drpc::to_string(decoded->status) == "STATUS_42");
}

TEST_CASE("codec: malformed input is refused, as protobuf refuses it")
{
	struct Case {
		const char *name;
		std::string input;
	};
	const std::vector<Case> cases = {
		{"truncated tag", bytes({0x88})},
		{"truncated varint", bytes({0x08, 0x96})},
		{"missing varint", bytes({0x08})},
		{"eleven-byte varint", bytes({0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})},
		// protobuf reads a tag as at most five bytes holding a uint32
		{"six-byte tag", bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01})},
		{"ten-byte tag", bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01})},
		{"tag over 32 bits", bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x01, 0x01})},
		{"eleven-byte tag",
	         bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01})},
		{"body length past the end", bytes({0x22, 0x05, 'a', 'b'})},
		{"unknown length past the end", bytes({0x32, 0x7f, 'a'})},
		{"huge length", bytes({0x22, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
		{"truncated fixed64", bytes({0x29, 1, 2, 3, 4, 5, 6, 7})},
		{"truncated fixed32", bytes({0x3d, 1, 2, 3})},
		{"field number 0", bytes({0x00, 0x01})},
		{"field number 0, length-delimited", bytes({0x02, 0x00})},
		{"wire type 6", bytes({0x2e, 0x01})},
		{"wire type 7", bytes({0x2f, 0x01})},
		{"end-group at top level", bytes({0x08, 0x01, 0x2c})},
		{"unterminated group", bytes({0x2b, 0x08, 0x01})},
		{"mismatched end-group", bytes({0x2b, 0x08, 0x01, 0x34})},
		{"bad field inside a group", bytes({0x2b, 0x2e, 0x2c})},
		{"truncated inside a group", bytes({0x2b, 0x12, 0x05, 'a', 0x2c})},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			drpc::Call reference_call;
			drpc::Response reference_response;
			CHECK_FALSE_MESSAGE(reference_call.ParseFromString(c.input), "protobuf accepts this case");
			CHECK_FALSE(reference_response.ParseFromString(c.input));
			CHECK_FALSE(drpc::codec::decode_call(c.input));
			CHECK_FALSE(drpc::codec::decode_response(c.input));
			CHECK_FALSE(drpc::codec::to_call(c.input));
			CHECK_FALSE(drpc::codec::to_response(c.input));
		}
	}
}

TEST_CASE("codec: deeply nested groups are refused without exhausting the stack")
{
	std::string input;
	for (int i = 0; i < 100000; ++i)
		input.push_back(0x2b);
	CHECK_FALSE(drpc::codec::decode_call(input));
	CHECK_FALSE(drpc::codec::decode_response(input));
}

TEST_CASE("codec: mangled encodings never crash, decode as protobuf decodes them, and re-encode to the same values")
{
	std::vector<std::string> seeds = {
		drpc::codec::encode(make_call(0, 0, 1, "\x0a\x05world")),
		drpc::codec::encode(make_call(-1, int32_max, int64_min, pattern(40))),
		drpc::codec::encode(make_response(7, status_of(42), pattern(200))),
		drpc::codec::encode(make_response(-1, drpc::Status::FAILED_UNMARSHAL_CALL, "")),
		bytes({0x2b, 0x08, 0x01, 0x12, 0x01, 'x', 0x1b, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x1c, 0x2c, 0x08, 0x06}),
		bytes({0x3d, 1, 2, 3, 4, 0x29, 1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0x01, 'b'}),
	};
	std::mt19937 random(20240601);
	const auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
	int calls_decoded = 0, responses_decoded = 0;
	for (int round = 0; round < 20000; ++round) {
		std::string input = seeds[pick(seeds.size())];
		const int edits = 1 + static_cast<int>(pick(4));
		for (int e = 0; e < edits; ++e) {
			const size_t at = input.empty() ? 0 : pick(input.size());
			switch (pick(5)) {
			case 0: // flip a bit
				if (!input.empty())
					input[at] = static_cast<char>(input[at] ^ (1 << pick(8)));
				break;
			case 1: // a random byte
				if (!input.empty())
					input[at] = static_cast<char>(random());
				break;
			case 2: // insert
				input.insert(input.begin() + static_cast<std::ptrdiff_t>(at),
				             static_cast<char>(random()));
				break;
			case 3: // delete
				if (!input.empty())
					input.erase(at, 1);
				break;
			default: // truncate
				input.resize(at);
				break;
			}
		}
		// An exact-size heap copy, so that ASan sees any read past the end.
		const std::unique_ptr<char[]> exact(new char[input.size() + 1]);
		std::copy(input.begin(), input.end(), exact.get());
		const std::string_view view(exact.get(), input.size());

		check_agrees_with_protobuf(view);
		if (const auto call = drpc::codec::decode_call(view)) {
			++calls_decoded;
			const std::string again = encode_view(*call);
			const auto twice = drpc::codec::decode_call(again);
			REQUIRE(twice);
			CHECK(twice->module == call->module);
			CHECK(twice->method == call->method);
			CHECK(twice->sequence == call->sequence);
			CHECK(twice->body == call->body);
			// the generated class agrees on the re-encoding
			drpc::Call reference;
			REQUIRE(reference.ParseFromString(again));
			CHECK(reference.SerializeAsString() == again);
		}
		if (const auto response = drpc::codec::decode_response(view)) {
			++responses_decoded;
			const std::string again = encode_view(*response);
			const auto twice = drpc::codec::decode_response(again);
			REQUIRE(twice);
			CHECK(twice->sequence == response->sequence);
			CHECK(twice->status == response->status);
			CHECK(twice->body == response->body);
			drpc::Response reference;
			REQUIRE(reference.ParseFromString(again));
			CHECK(reference.SerializeAsString() == again);
		}
	}
	// The mutations must exercise both outcomes, or the loop proves little.
	CHECK(calls_decoded > 1000);
	CHECK(calls_decoded < 19000);
	CHECK(responses_decoded > 1000);
}

TEST_CASE("codec: encode_response_before writes exactly the Response's leading bytes")
{
	struct Case {
		int64_t sequence;
		int status;
	};
	const std::vector<Case> fields = {
		{0, 0}, {1, 0}, {-1, 5}, {int64_max, 2}, {int64_min, 7}, {300, 42}, {-5, -1}, {int64_min, int32_min},
	};
	const std::vector<size_t> body_sizes = {0, 1, 127, 128, 16383, 16384, size_t{1} << 20};
	constexpr size_t headroom = drpc::codec::max_response_overhead;
	constexpr char sentinel = '\x5a';
	for (const Case &f : fields) {
		for (size_t body_size : body_sizes) {
			CAPTURE(f.sequence);
			CAPTURE(f.status);
			CAPTURE(body_size);
			const std::string body = pattern(body_size);
			std::string buffer(headroom + 8, sentinel);
			buffer += body;
			auto *body_at = reinterpret_cast<uint8_t *>(buffer.data()) + headroom + 8;
			const size_t written = drpc::codec::encode_response_before(body_at, f.sequence,
			                                                           status_of(f.status), body_size);
			CHECK(written <= headroom);
			const std::string expected =
				drpc::codec::encode(make_response(f.sequence, status_of(f.status), body));
			CHECK(make_response(f.sequence, status_of(f.status), body).SerializeAsString() == expected);
			CHECK(buffer.substr(headroom + 8 - written) == expected);
			// nothing before the prefix is touched
			CHECK(buffer.substr(0, headroom + 8 - written) ==
			      std::string(headroom + 8 - written, sentinel));
		}
	}
}

TEST_CASE("codec: max_response_overhead is reached by the largest fields")
{
	// Sequence and status of ten varint bytes each and a body length of ten:
	// the worst case the server's headroom must hold.
	std::vector<uint8_t> buffer(drpc::codec::max_response_overhead + 1);
	const size_t written = drpc::codec::encode_response_before(buffer.data() + buffer.size(), int64_min,
	                                                           status_of(-1), std::numeric_limits<size_t>::max());
	CHECK(written == drpc::codec::max_response_overhead);
}
