#pragma once
// Private to admin/: files compiled into the binary at build time by
// admin/embed_files.cmake (the dashboard's assets). The generated .cpp
// defines the table; admin/dashboard.cpp is its only reader.

#include <cstddef>

namespace meridian::admin::embedded {

struct EmbeddedFile {
  /// The path under the embedded folder, as listed in CMake ("index.html").
  const char* name;
  /// `size` bytes (then a NUL that is not part of the file). Static storage.
  const unsigned char* data;
  std::size_t size;
};

/// Every embedded file, in the order CMake listed them.
extern const EmbeddedFile kFiles[];
extern const std::size_t kFileCount;

}  // namespace meridian::admin::embedded
