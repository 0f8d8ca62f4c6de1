#pragma once
// Directories that hold a node's secrets and state (its data_dir, the
// directories `meridian cluster certs` writes keys into): created with mode
// 0700 from the start, parents included, so that a first start on a fresh
// machine just works and nothing is ever readable by others for a moment.

#include <string>

#include "base/result.hpp"

namespace meridian {

/// Creates `path` and every missing parent, each with mkdir(..., 0700)
/// (under the process umask, which can only narrow it). Directories that
/// exist are left as they are (their mode is the operator's choice). An
/// existing non-directory on the way, or a mkdir that fails, is an error
/// naming that path and the reason. An empty path is an error.
Result<void> make_private_directories(const std::string& path);

}  // namespace meridian
