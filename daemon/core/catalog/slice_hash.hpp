// The slice hash of platform-api.md §3.2: hex SHA-256 of the RFC 8785 canonical JSON of the
// `resources` array sorted by code. Equal slices hash equal however their files were written.
#pragma once
#include <string>

#include "core/catalog/resource.hpp"

namespace xnode::catalog {

// The canonical JSON text of the resources array (sorted by code; the slice need not be sorted).
std::string slice_canonical(const Slice& slice);
// Lower-case hex SHA-256 of slice_canonical().
std::string slice_sha256(const Slice& slice);

}  // namespace xnode::catalog
