// SPDX-License-Identifier: Apache-2.0
// Keeping the process's default thread attributes, and making them unusable.
#include "thread_defaults.hpp"

#include <cstddef>
#include <system_error>

namespace test_support {
namespace {

void check(int error, const char *what)
{
	if (error != 0)
		throw std::system_error(error, std::generic_category(), what);
}

} // namespace

KeptThreadDefaults::KeptThreadDefaults() { check(::pthread_getattr_default_np(&saved_), "pthread_getattr_default_np"); }

KeptThreadDefaults::~KeptThreadDefaults()
{
	(void)::pthread_setattr_default_np(&saved_);
	::pthread_attr_destroy(&saved_);
}

NoThreadStarts::NoThreadStarts()
{
	pthread_attr_t unmappable;
	check(::pthread_getattr_default_np(&unmappable), "pthread_getattr_default_np");
	int error = ::pthread_attr_setstacksize(&unmappable, size_t{1} << 50);
	if (error == 0)
		error = ::pthread_setattr_default_np(&unmappable);
	::pthread_attr_destroy(&unmappable);
	check(error, "setting an unmappable default thread stack");
}

} // namespace test_support
