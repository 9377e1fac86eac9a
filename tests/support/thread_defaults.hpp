// SPDX-License-Identifier: Apache-2.0
/// @file thread_defaults.hpp
/// The process's default thread attributes (pthread_setattr_default_np),
/// which some code under test changes for the whole process: kept and given
/// back, or made such that no thread can start.
#pragma once

#include <pthread.h>

namespace test_support {

/// Keeps the default thread attributes as they are now and gives them back
/// when it goes. Throws std::system_error when they cannot be read.
class KeptThreadDefaults {
public:
	KeptThreadDefaults();
	~KeptThreadDefaults();
	KeptThreadDefaults(const KeptThreadDefaults &) = delete;
	KeptThreadDefaults &operator=(const KeptThreadDefaults &) = delete;

private:
	pthread_attr_t saved_{};
};

/// While it lives, no thread can start in this process: the default stack
/// it gives them cannot be mapped (as under a tight RLIMIT_DATA).
class NoThreadStarts {
public:
	/// Throws std::system_error when the defaults cannot be set.
	NoThreadStarts();

private:
	KeptThreadDefaults kept_;
};

} // namespace test_support
