# Warnings and sanitizers as INTERFACE targets, linked by every project target.
add_library(xnode_warnings INTERFACE)
target_compile_options(xnode_warnings INTERFACE -Wall -Wextra -Wpedantic
  -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
  $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>)
if(XNODE_DEVELOPER)
  # GCC 12's -Wrestrict fires falsely at -O3 inside libstdc++'s std::string (GCC bug 105329, seen in
  # core/catalog/catalog_sync.cpp): kept as a warning, not an error, so Release developer trees build.
  target_compile_options(xnode_warnings INTERFACE -Werror $<$<CXX_COMPILER_ID:GNU>:-Wno-error=restrict>)
endif()

add_library(xnode_sanitizers INTERFACE)
if(XNODE_SANITIZE)
  target_compile_options(xnode_sanitizers INTERFACE -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(xnode_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# In the fuzz tree every library carries coverage instrumentation for libFuzzer.
if(XNODE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
