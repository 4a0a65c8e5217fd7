// libFuzzer target: the catalog loader on arbitrary YAML text (operators and the bureau's tooling
// write these files; a bad file must give errors, never a crash or a hang).
// Invariant checked: a slice that loads cleanly survives its JSON wire form with the same hash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base/json.hpp"
#include "core/catalog/loader.hpp"
#include "core/catalog/resource_json.hpp"
#include "core/catalog/slice_hash.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xnode;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto load = catalog::load_slice_text(text, "fuzz.yaml");
  for (const auto& e : load.errors) (void)e.to_string();
  if (!load.ok()) return 0;
  const std::string hash = catalog::slice_sha256(load.slice);
  const std::string wire = json::serialize(catalog::to_json(load.slice));
  auto parsed = json::parse(wire);
  if (!parsed) std::abort();  // our own output must be valid JSON
  auto read = catalog::slice_from_json(*parsed);
  if (!read.ok() || catalog::slice_sha256(read.slice) != hash) std::abort();
  return 0;
}
