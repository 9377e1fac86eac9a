// SPDX-License-Identifier: Apache-2.0
// Extent-by-extent file copy that keeps holes.
#include "sparse_copy.hpp"

#include <drpc/error.hpp>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace drpc::host {
namespace {

constexpr size_t chunk_bytes = 64 * 1024;

/// Copies [offset, offset + length) with pread/pwrite.
void copy_by_hand(int from, int to, off_t offset, uint64_t length)
{
	const auto buffer = std::make_unique<char[]>(chunk_bytes);
	while (length > 0) {
		const ssize_t got = ::pread(from, buffer.get(), std::min<uint64_t>(length, chunk_bytes), offset);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			throw drpc::SystemError("read", errno);
		}
		if (got == 0)
			return; // truncated meanwhile: the caller sets the final size
		for (ssize_t done = 0; done < got;) {
			const ssize_t put =
				::pwrite(to, buffer.get() + done, static_cast<size_t>(got - done), offset + done);
			if (put < 0) {
				if (errno == EINTR)
					continue;
				throw drpc::SystemError("write to the runtime copy", errno);
			}
			done += put;
		}
		offset += got;
		length -= static_cast<uint64_t>(got);
	}
}

/// Copies one data extent, in the kernel when it can.
void copy_extent(int from, int to, off_t offset, uint64_t length, bool &kernel_copy)
{
	while (kernel_copy && length > 0) {
		off_t in = offset;
		off_t out = offset;
		const ssize_t copied = ::copy_file_range(from, &in, to, &out, length, 0);
		if (copied > 0) {
			offset += copied;
			length -= static_cast<uint64_t>(copied);
			continue;
		}
		if (copied == 0)
			return;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM)
			throw drpc::SystemError("copy_file_range", errno);
		kernel_copy = false; // these file systems cannot: copy by hand from here on
	}
	copy_by_hand(from, to, offset, length);
}

} // namespace

uint64_t copy_keeping_holes(int from, int to, uint64_t max_bytes)
{
	struct stat st {};
	if (::fstat(from, &st) != 0)
		throw drpc::SystemError("fstat", errno);
	const auto size = static_cast<uint64_t>(st.st_size);
	if (size > max_bytes)
		throw drpc::Error("larger than " + std::to_string(max_bytes) + " bytes (plugins.max_file_bytes)");
	bool kernel_copy = true;
	for (off_t offset = 0; static_cast<uint64_t>(offset) < size;) {
		const off_t data = ::lseek(from, offset, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; // only a hole up to the end
			throw drpc::SystemError("lseek SEEK_DATA", errno);
		}
		off_t hole = ::lseek(from, data, SEEK_HOLE);
		if (hole < 0)
			throw drpc::SystemError("lseek SEEK_HOLE", errno);
		// The file may have grown since fstat(): copy no more than was checked.
		hole = std::min<off_t>(hole, static_cast<off_t>(size));
		if (data >= hole)
			break;
		copy_extent(from, to, data, static_cast<uint64_t>(hole - data), kernel_copy);
		offset = hole;
	}
	// A trailing hole is a size, not data.
	if (::ftruncate(to, static_cast<off_t>(size)) != 0)
		throw drpc::SystemError("ftruncate the runtime copy", errno);
	return size;
}

} // namespace drpc::host
