// SPDX-License-Identifier: Apache-2.0
// The memfd that carries large bodies between the host and a worker.
#include "shared_region.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace drpc::host::isolation {
namespace {

/// Neither side may change the size, and nobody may lift that.
constexpr int region_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

uint8_t *map_region(int fd)
{
	void *base = ::mmap(nullptr, SharedRegion::total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return nullptr;
	return static_cast<uint8_t *>(base);
}

} // namespace

SharedRegion SharedRegion::create(const std::string &name)
{
	drpc::UniqueFd fd(::memfd_create(("drpc-region:" + name).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd.valid())
		throw drpc::SystemError("shared region of " + name + ": memfd_create", errno);
	if (::ftruncate(fd.get(), static_cast<off_t>(total_bytes)) != 0)
		throw drpc::SystemError("shared region of " + name + ": ftruncate", errno);
	if (::fcntl(fd.get(), F_ADD_SEALS, region_seals) != 0)
		throw drpc::SystemError("shared region of " + name + ": F_ADD_SEALS", errno);
	uint8_t *base = map_region(fd.get());
	if (base == nullptr)
		throw drpc::SystemError("shared region of " + name + ": mmap", errno);
	return SharedRegion(std::move(fd), base);
}

SharedRegion SharedRegion::adopt(int fd)
{
	drpc::UniqueFd owned(fd);
	struct stat info {};
	if (::fstat(owned.get(), &info) != 0)
		throw drpc::SystemError("shared region: fstat", errno);
	if (static_cast<uint64_t>(info.st_size) != total_bytes)
		throw drpc::Error("shared region: " + std::to_string(info.st_size) + " bytes, not the " +
		                  std::to_string(total_bytes) + " this build expects");
	const int seals = ::fcntl(owned.get(), F_GET_SEALS);
	if (seals < 0 || (seals & region_seals) != region_seals)
		throw drpc::Error("shared region: not sealed against resizing");
	uint8_t *base = map_region(owned.get());
	if (base == nullptr)
		throw drpc::SystemError("shared region: mmap", errno);
	// The mapping is all the worker needs: no descriptor left for a plugin.
	owned.reset();
	return SharedRegion(std::move(owned), base);
}

SharedRegion::SharedRegion(SharedRegion &&other) noexcept
	: fd_(std::move(other.fd_)), base_(std::exchange(other.base_, nullptr))
{
}

SharedRegion &SharedRegion::operator=(SharedRegion &&other) noexcept
{
	if (this != &other) {
		if (base_ != nullptr)
			::munmap(base_, total_bytes);
		fd_ = std::move(other.fd_);
		base_ = std::exchange(other.base_, nullptr);
	}
	return *this;
}

SharedRegion::~SharedRegion()
{
	if (base_ != nullptr)
		::munmap(base_, total_bytes);
}

std::span<uint8_t> SharedRegion::call_area(uint32_t slot) const noexcept
{
	return {base_ + rings_bytes + size_t{slot} * 2 * area_bytes, area_bytes};
}

std::span<uint8_t> SharedRegion::answer_area(uint32_t slot) const noexcept
{
	return {base_ + rings_bytes + (size_t{slot} * 2 + 1) * area_bytes, area_bytes};
}

void SharedRegion::release(uint32_t slot) const noexcept
{
	// Punches the hole in the memfd itself, so the worker's mapping lets go too.
	(void)::madvise(call_area(slot).data(), 2 * area_bytes, MADV_REMOVE);
}

} // namespace drpc::host::isolation
