// SPDX-License-Identifier: Apache-2.0
// Listing a directory held open by descriptor.
#include <drpc/lifecycle/directory_entries.hpp>

#include <drpc/error.hpp>
#include <drpc/unique_fd.hpp>

#include <cerrno>
#include <dirent.h>
#include <memory>
#include <unistd.h>

namespace drpc::host {

std::vector<std::string> directory_entries(int dir_fd, const std::function<bool(std::string_view)> &keep)
{
	drpc::UniqueFd listing_fd(::dup(dir_fd));
	if (!listing_fd.valid())
		throw drpc::SystemError("dup", errno);
	const std::unique_ptr<DIR, int (*)(DIR *)> dir(::fdopendir(listing_fd.get()), &::closedir);
	if (!dir)
		throw drpc::SystemError("fdopendir", errno);
	(void)listing_fd.release(); // closedir owns it now
	// The duplicate shares the original's offset: start from the top.
	::rewinddir(dir.get());
	std::vector<std::string> names;
	errno = 0;
	while (const dirent *entry = ::readdir(dir.get())) {
		if (keep(entry->d_name))
			names.emplace_back(entry->d_name);
		errno = 0;
	}
	if (errno != 0)
		throw drpc::SystemError("readdir", errno);
	return names;
}

} // namespace drpc::host
