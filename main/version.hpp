#pragma once
// The release, as `meridian version`, the status API and /metrics report it.

namespace meridian {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace meridian
